// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.Policy;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Random histories of faults, notifier invalidations, memslot moves and deletes, dirty-log toggles and ioctls,
 * NX recovery and fast zaps on several vCPUs: under every policy that models a real kernel, the
 * stale-translation oracle finds nothing, pages_* match the SPTEs, and invalidations balance. A failure names
 * the seed; {@code MmuHistory.generate(new SplittableRandom(seed), 80)} replays it.
 */
class MmuHistoryProperties {
    private static void check(long seed, Policy policy) {
        MmuHistory.Case c = MmuHistory.generate(new SplittableRandom(seed), 80);
        List<String> problems = MmuHistory.run(c, policy, seed);
        assertThat(problems).as("seed %d, policy %s, setup %s", seed, policy.name(), c.setup()).isEmpty();
    }

    @Property(tries = 150)
    void currentKernelNeverUsesAStaleTranslation(@ForAll long seed) {
        check(seed, Policy.current());
    }

    @Property(tries = 150)
    void legacyKernelNeverUsesAStaleTranslation(@ForAll long seed) {
        check(seed, Policy.legacy());
    }

    @Property(tries = 60)
    void preTdpFaultPathNeverUsesAStaleTranslation(@ForAll long seed) {
        check(seed, Policy.preTdp());
    }

    @Property(tries = 60)
    void asyncRootZappingNeverUsesAStaleTranslation(@ForAll long seed) {
        check(seed, Policy.parse("current,+async_zap_invalidated_roots"));
    }
}
