// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.Policy;
import org.junit.jupiter.api.Test;

/** Item (c) run small: with lock elision only the notifications overlapping a memslot take mmu_lock. */
class NotifierElisionBenchTest {
    private static final NotifierElisionBench.Config CFG = NotifierElisionBench.Config.small();

    private static NotifierElisionBench.Result run(String policy) {
        return NotifierElisionBench.run(CFG, Policy.parse(policy), 1);
    }

    @Test
    void elisionTakesMmuLockOnlyForOverlappingNotifications() {
        long pairs = (long) CFG.outside() + CFG.inside();
        for (String p : new String[] {"legacy", "current"}) {
            NotifierElisionBench.Result r = run(p);
            assertThat(r.callbacks()).as(p + ": start and end of every pair").isEqualTo(2 * pairs);
            assertThat(r.lockedCallbacks()).as(p + ": only the pairs inside guest memory lock").isEqualTo(2L * CFG.inside());
            assertThat(r.seqBumps()).as(p + ": mmu_invalidate_seq moves for relevant invalidations only").isEqualTo(CFG.inside());
            assertThat(r.violations()).isZero();
        }
    }

    @Test
    void withoutElisionEveryNotificationLocksAndRacingFaultsRetry() {
        NotifierElisionBench.Result off = run("legacy,-notifier_lock_elision");
        NotifierElisionBench.Result on = run("current");
        assertThat(off.lockedCallbacks()).as("without elision every callback takes mmu_lock, overlapping a memslot or not")
                .isEqualTo(off.callbacks());
        assertThat(off.seqBumps()).as("without elision every pair bumps mmu_invalidate_seq").isEqualTo(CFG.outside() + CFG.inside());
        assertThat(off.pfTaken()).as("spurious invalidations make in-flight faults retry").isGreaterThan(on.pfTaken());
        assertThat(off.vcpuNs()).isGreaterThan(on.vcpuNs());
        assertThat(off.violations()).isZero();
    }
}
