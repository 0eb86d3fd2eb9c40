// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.spte.Spte;
import org.junit.jupiter.api.Test;

/**
 * Eager page split has two callers with two lock modes: enabling dirty logging splits under mmu_lock held for
 * read (cmpxchg, racing vCPUs), KVM_CLEAR_DIRTY_LOG with manual protect and initially-set bitmaps splits under
 * the write lock, where tdp_mmu_link_sp() writes plainly. The model asserts the lock a cmpxchg needs, as
 * tdp_mmu_set_spte_atomic()'s lockdep_assert_held_read() does.
 */
class EagerSplitLockingTest {
    @Test
    void clearDirtyLogSplitsTheHugePageUnderTheWriteLockWithPlainWrites() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults().withOracle(true), 1)) {
            w.kvm.enableManualDirtyLogProtect(true);
            w.access(0, w.slot1Gpa, true, false);
            assertThat(w.leafLevel(0, w.slot1Gpa)).isEqualTo(Spte.PG_LEVEL_2M);
            w.slot1Flags |= MmuHistory.LOG_DIRTY;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, w.slot1Flags, w.slot1Gpa, w.slot1Pages << 12, w.hva1));
            assertThat(w.leafLevel(0, w.slot1Gpa)).as("initially-set bitmaps: enabling the log splits nothing yet")
                    .isEqualTo(Spte.PG_LEVEL_2M);
            w.dirtyLog.clear(MmuWorld.SLOT1, 0, 64, new long[] {-1L});
            assertThat(w.leafLevel(0, w.slot1Gpa)).as("KVM_CLEAR_DIRTY_LOG split the huge page before write-protecting it")
                    .isEqualTo(Spte.PG_LEVEL_4K);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }

    /**
     * Without {@code eager_page_split} (a kernel before 5.17, or the behaviour switched off) KVM_CLEAR_DIRTY_LOG
     * only write-protects the huge page; the split is left to the guest's next write fault.
     */
    @Test
    void clearDirtyLogLeavesTheHugePageWithoutEagerPageSplit() {
        SimConfig config = SimConfig.defaults().withOracle(true).withPolicy(Policy.parse("current,-eager_page_split"));
        try (MmuWorld w = new MmuWorld(1, config, 1)) {
            w.kvm.enableManualDirtyLogProtect(true);
            w.access(0, w.slot1Gpa, true, false);
            w.slot1Flags |= MmuHistory.LOG_DIRTY;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, w.slot1Flags, w.slot1Gpa, w.slot1Pages << 12, w.hva1));
            w.dirtyLog.clear(MmuWorld.SLOT1, 0, 64, new long[] {-1L});
            assertThat(w.leafLevel(0, w.slot1Gpa)).as("current,-eager_page_split split the huge page in KVM_CLEAR_DIRTY_LOG")
                    .isEqualTo(Spte.PG_LEVEL_2M);
            assertThat(w.access(0, w.slot1Gpa, true, false)).isEqualTo(GuestExit.Reason.INTR);
            assertThat(w.leafLevel(0, w.slot1Gpa)).as("the write fault splits it").isEqualTo(Spte.PG_LEVEL_4K);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }
}
