// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;

/**
 * kvm_tdp_mmu_map() and what it needs from tdp_mmu.c: walk from the root to the goal level, linking new
 * tables on the way (or splitting a huge page that is in the way), then install the leaf. mmu_lock is held
 * for read, so every update is a cmpxchg that may lose to another vCPU; losing means RET_PF_RETRY.
 */
public final class TdpFault {
    private final TdpMmu mmu;
    /** One walker per fault handler: a vCPU maps one fault at a time. */
    private TdpIter iter;
    /** mmu_lock is held for read (cmpxchg updates) rather than for write (plain writes). */
    private boolean shared = true;

    public TdpFault(TdpMmu mmu) {
        this.mmu = mmu;
    }

    /** kvm_tdp_mmu_map(). {@code shared} is false when faults run under the write lock (pre-TDP policy). */
    public PfResult map(KvmMmuPage root, KvmPageFault f, long vcpuMemslotsGeneration, boolean shared) {
        this.shared = shared;
        hugepageAdjust(f);
        mmu.kvm.rcu().readLock();
        try {
            if (iter == null) {
                iter = new TdpIter(mmu.tables, root, Spte.PG_LEVEL_4K, f.gfn, f.gfn + 1);
            } else {
                iter.start(root, Spte.PG_LEVEL_4K, f.gfn, f.gfn + 1);
            }
            TdpIter it = iter;
            for (; it.hasCurrent(); it.next()) {
                mmu.sched.charge(Cost.SPTE_READ);
                if (f.nxHugePageWorkaroundEnabled) {
                    disallowedHugepageAdjust(f, it.oldSpte, it.level());
                }
                if (Spte.isFrozen(it.oldSpte)) {
                    return PfResult.RETRY;
                }
                if (it.level() == f.goalLevel) {
                    return mapTargetLevel(f, it, vcpuMemslotsGeneration);
                }
                if (Spte.isPresent(it.oldSpte) && (it.oldSpte & Spte.LARGE) == 0) {
                    continue;
                }
                mmu.sched.charge(Cost.SP_ALLOC);
                KvmMmuPage sp = mmu.tables.alloc(it.level() - 1, root.asId, Spte.alignDown(it.gfn(), it.level()), Spte.NONPRESENT);
                sp.nxHugePageDisallowed = f.hugePageDisallowed;
                // A scheduling point: another vCPU may get to this SPTE first, and the cmpxchg below then fails.
                mmu.sched.yieldPoint();
                boolean ok = Spte.isPresent(it.oldSpte) ? splitHugePage(it, sp) : linkSp(it, sp);
                if (!ok) {
                    mmu.tables.free(sp);
                    return PfResult.RETRY;
                }
                if (f.hugePageDisallowed && f.reqLevel >= it.level() && sp.nxHugePageDisallowed) {
                    mmu.trackPossibleNxHugePage(sp);
                }
            }
            return PfResult.RETRY;
        } finally {
            mmu.kvm.rcu().readUnlock();
        }
    }

    /** tdp_mmu_set_spte_atomic() under the read lock, tdp_mmu_iter_set_spte() under the write lock. */
    private boolean install(TdpIter it, long nw) {
        if (shared) {
            return mmu.setSpteAtomic(it, nw);
        }
        mmu.setSpte(it, nw);
        return true;
    }

    /** Sets whether the next split or link runs under mmu_lock held for read ({@code true}) or for write. */
    TdpFault shared(boolean s) {
        this.shared = s;
        return this;
    }

    /** tdp_mmu_link_sp(): points the current SPTE at a new, empty table. */
    boolean linkSp(TdpIter it, KvmMmuPage sp) {
        long nonLeaf = Spte.makeNonLeaf(sp.id);
        sp.parent = it.table();
        sp.parentIndex = (short) it.index();
        if (!install(it, nonLeaf)) {
            sp.parent = null;
            return false;
        }
        mmu.tdpMmuPages++;
        return true;
    }

    /**
     * tdp_mmu_split_huge_page(): fills the new table with 512 children mapping exactly what the huge page mapped
     * and swaps it in, without a flush (6.0+). Before that, the fault path zapped the huge SPTE (freeze + flush)
     * and linked an empty table.
     */
    boolean splitHugePage(TdpIter it, KvmMmuPage sp) {
        if (!mmu.kvm.policy().has(Behaviour.IN_PLACE_SPLIT_ON_FAULT)) {
            if (!mmu.zapSpteAtomic(it)) {
                return false;
            }
            return linkSp(it, sp);
        }
        return splitInPlace(it, sp);
    }

    /** Fills {@code sp} with the 512 children of the huge leaf at {@code it} and links it in its place. */
    boolean splitInPlace(TdpIter it, KvmMmuPage sp) {
        long huge = it.oldSpte;
        int level = it.level();
        boolean nxStripped = !Spte.isExecutable(huge);
        for (int i = 0; i < Spte.PT_ENTRIES; i++) {
            mmu.tables.store(sp, i, Spte.makeSplitChild(huge, level, i, nxStripped));
        }
        mmu.sched.charge(Cost.SPTE_WRITE, Spte.PT_ENTRIES);
        if (!linkSp(it, sp)) {
            return false;
        }
        // The huge leaf's -1 came from handle_changed_spte(); the children are counted here.
        mmu.kvm.accountPages(level - 1, Spte.PT_ENTRIES);
        return true;
    }

    /** tdp_mmu_map_handle_target_level(). */
    private PfResult mapTargetLevel(KvmPageFault f, TdpIter it, long generation) {
        long nw;
        if (f.slot == null) {
            nw = Spte.makeMmio(it.gfn(), generation);
        } else {
            long pfn = f.pfn;
            // The NX mitigation keeps huge pages non-executable, so an exec fault must split them.
            boolean exec = !(f.nxHugePageWorkaroundEnabled && it.level() > 1);
            nw = Spte.makeLeaf(pfn, it.level(), f.mapWritable, f.mapWritable, exec, f.prefetch);
        }
        PfResult ret = PfResult.FIXED;
        long old = it.oldSpte;
        if (nw == old) {
            ret = PfResult.SPURIOUS;
        } else if (!install(it, nw)) {
            return PfResult.RETRY;
        } else if (Spte.isPresent(old) && !Spte.isLastLevel(old, it.level())
                && mmu.kvm.policy().has(Behaviour.EXPLICIT_FLUSH_ON_HUGE_REPLACE)) {
            mmu.kvm.flushRemoteTlbsRange(FlushSite.HUGE_PAGE_REPLACE);
        }
        if (f.slot != null && Spte.isWritable(nw) && f.slot.dirtyLogging()) {
            mmu.kvm.markPageDirtyInSlot(f.slot, it.gfn());
        }
        if (Spte.isMmio(nw)) {
            return PfResult.EMULATE;
        }
        return ret;
    }

    /**
     * kvm_mmu_hugepage_adjust(): the largest level the host mapping, the memslot's lpage_info and the NX
     * mitigation allow. Dirty-logged slots and MMIO stay at 4K.
     */
    void hugepageAdjust(KvmPageFault f) {
        f.goalLevel = Spte.PG_LEVEL_4K;
        f.hugePageDisallowed = f.exec && f.nxHugePageWorkaroundEnabled;
        if (f.maxLevel == Spte.PG_LEVEL_4K || f.slot == null || f.slot.dirtyLogging()) {
            return;
        }
        int req = 1;
        for (int level = Math.min(f.maxLevel, Spte.PG_LEVEL_1G); level > Spte.PG_LEVEL_4K; level--) {
            if (level <= f.hostLevel && mmu.kvm.lpageAllowed(f.slot, f.gfn, level)) {
                req = level;
                break;
            }
        }
        f.reqLevel = req;
        if (req == 1 || f.hugePageDisallowed) {
            return;
        }
        f.goalLevel = req;
        f.pfn &= -Spte.pagesPerEntry(req);
    }

    /** disallowed_hugepage_adjust(): go one level lower where an NX-split table already sits. */
    private void disallowedHugepageAdjust(KvmPageFault f, long spte, int level) {
        if (level > Spte.PG_LEVEL_4K && level == f.goalLevel && Spte.isPresent(spte) && (spte & Spte.LARGE) == 0) {
            KvmMmuPage child = mmu.tables.get((int) Spte.pfn(spte));
            if (child.nxHugePageDisallowed) {
                long pageMask = Spte.pagesPerEntry(level) - Spte.pagesPerEntry(level - 1);
                f.pfn |= f.gfn & pageMask;
                f.goalLevel--;
            }
        }
    }
}
