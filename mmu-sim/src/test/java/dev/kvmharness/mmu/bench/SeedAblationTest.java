// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.Policy;
import org.junit.jupiter.api.Test;

/** Item (e) run small: the toggles are the ones named, and the behaviours behind seed 000's drop move the count. */
class SeedAblationTest {
    private static final BootWorkload.Config CFG = BootWorkload.Config.small();

    private static long requests(String policy) {
        return new BootWorkload(CFG, Policy.parse(policy), 1).run().remoteTlbFlushRequests();
    }

    @Test
    void eachToggleChangesExactlyOneBehaviour() {
        for (Behaviour b : Behaviour.values()) {
            for (String base : new String[] {"legacy", "current"}) {
                Policy toggled = Policy.parse(SeedAblation.toggle(base, b));
                assertThat(toggled.has(b)).as(base + " toggling " + b).isNotEqualTo(Policy.parse(base).has(b));
                assertThat(toggled.behaviours().size()).isEqualTo(Policy.parse(base).behaviours().size() + (toggled.has(b) ? 1 : -1));
            }
        }
    }

    @Test
    void theInvalidRootAndRemovedTableFlushesAreWhatTheOverhaulSaves() {
        long legacy = requests("legacy");
        long current = requests("current");
        // Either of the two legacy flush sources of a fast zap, put back on current, raises the count.
        assertThat(requests("current,-no_flush_for_invalid_roots")).isGreaterThan(current);
        assertThat(requests("current,-defer_removed_pt_flush")).isGreaterThan(current);
        // On legacy both must go before the fast zap stops flushing; one alone still leaves some.
        assertThat(requests("legacy,+no_flush_for_invalid_roots")).isLessThan(legacy);
        assertThat(requests("legacy,+defer_removed_pt_flush,+no_flush_for_invalid_roots")).isLessThan(requests("legacy,+no_flush_for_invalid_roots"));
    }
}
