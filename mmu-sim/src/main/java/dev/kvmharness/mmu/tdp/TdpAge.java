// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;

/**
 * Aging for the accessed-bit MMU notifiers (tdp_mmu.c: kvm_tdp_mmu_age_gfn_range() and
 * kvm_tdp_mmu_test_age_gfn()). Up to 6.14 the notifier holds mmu_lock for write and every root of the address
 * space is walked, invalid ones included. From 6.15 (lockless aging) no lock is held: the walk covers the valid
 * roots under RCU alone, and the Accessed bit is cleared with an atomic AND, so faults, zaps and splits run
 * meanwhile. Neither flushes; clear_flush_young's caller does, where the kernel still flushes at all.
 */
public final class TdpAge {
    private TdpAge() {
    }

    /**
     * kvm_tdp_mmu_age_gfn_range(): clears the Accessed bit of every leaf in [start, end).
     *
     * @param lockless no mmu_lock held: between reading a young SPTE and clearing its bit other threads may run
     *                 (a scheduling point), and the AND applies to whatever the SPTE then holds, as
     *                 tdp_mmu_clear_spte_bits_atomic()'s atomic64_fetch_and() does
     * @return whether any was young
     */
    public static boolean ageGfnRange(TdpMmu mmu, int asId, long start, long end, boolean lockless) {
        boolean young = false;
        for (KvmMmuPage root : mmu.rootsFor(asId, lockless)) {
            mmu.kvm.rcu().readLock();
            for (TdpIter it = new TdpIter(mmu.tables, root, Spte.PG_LEVEL_4K, start, end); it.hasCurrent(); it.next()) {
                long old = it.oldSpte;
                if (!Spte.isLeaf(old, it.level()) || !Spte.isAccessed(old)) {
                    continue;
                }
                young = true;
                if (lockless) {
                    mmu.sched.yieldPoint();
                    old = it.readSpte();
                }
                // tdp_mmu_clear_spte_bits(_atomic)(): no handle_changed_spte, the page stays mapped.
                if (Spte.isAccessed(old)) {
                    mmu.tables.store(it.table(), it.index(), old & ~Spte.ACCESSED);
                    if (mmu.kvm.debugChecks() && Spte.isLeaf(old, it.level())) {
                        mmu.kvm.observer().accessedCleared(root.asId, it.gfn(), Spte.pagesPerEntry(it.level()));
                    }
                }
                it.setOldSpte(old & ~Spte.ACCESSED);
                mmu.sched.charge(Cost.SPTE_CMPXCHG);
            }
            mmu.kvm.rcu().readUnlock();
        }
        return young;
    }

    /**
     * kvm_tdp_mmu_test_age_gfn(): whether a leaf mapping gfn in any root is young. Lockless (6.15), only valid
     * roots are looked at, as for aging.
     */
    public static boolean testAgeGfn(TdpMmu mmu, int asId, long gfn, boolean lockless) {
        for (KvmMmuPage root : mmu.rootsFor(asId, lockless)) {
            EptWalk leaf = mmu.walk(root, gfn);
            if (Spte.isPresent(leaf.spte()) && Spte.isAccessed(leaf.spte())) {
                return true;
            }
        }
        return false;
    }
}
