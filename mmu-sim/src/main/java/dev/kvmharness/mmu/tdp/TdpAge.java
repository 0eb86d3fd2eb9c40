// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;

/**
 * Aging for the accessed-bit MMU notifiers (tdp_mmu.c: kvm_tdp_mmu_age_gfn_range() and
 * kvm_tdp_mmu_test_age_gfn(), through kvm_tdp_mmu_handle_gfn()): every root of the address space, invalid ones
 * included, with mmu_lock held for write by the notifier. Neither flushes; clear_flush_young's caller does.
 */
public final class TdpAge {
    private TdpAge() {
    }

    /**
     * kvm_tdp_mmu_age_gfn_range() / age_gfn_range(): clears the Accessed bit of every leaf in [start, end).
     *
     * @return whether any was young
     */
    public static boolean ageGfnRange(TdpMmu mmu, int asId, long start, long end) {
        boolean young = false;
        for (KvmMmuPage root : mmu.rootsFor(asId, false)) {
            mmu.kvm.rcu().readLock();
            for (TdpIter it = new TdpIter(mmu.tables, root, Spte.PG_LEVEL_4K, start, end); it.hasCurrent(); it.next()) {
                long old = it.oldSpte;
                if (!Spte.isLeaf(old, it.level()) || !Spte.isAccessed(old)) {
                    continue;
                }
                young = true;
                // tdp_mmu_clear_spte_bits(): no handle_changed_spte, the page stays mapped.
                mmu.tables.store(it.table(), it.index(), old & ~Spte.ACCESSED);
                it.setOldSpte(old & ~Spte.ACCESSED);
                mmu.sched.charge(Cost.SPTE_CMPXCHG);
            }
            mmu.kvm.rcu().readUnlock();
        }
        return young;
    }

    /** kvm_tdp_mmu_test_age_gfn() / test_age_gfn(): whether a leaf mapping gfn in any root is young. */
    public static boolean testAgeGfn(TdpMmu mmu, int asId, long gfn) {
        for (KvmMmuPage root : mmu.rootsFor(asId, false)) {
            EptWalk leaf = mmu.walk(root, gfn);
            if (Spte.isPresent(leaf.spte()) && Spte.isAccessed(leaf.spte())) {
                return true;
            }
        }
        return false;
    }
}
