// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.spte.Spte;

/**
 * The TDP MMU's zap flows (tdp_mmu.c): a whole root ({@code tdp_mmu_zap_root}), the leaf SPTEs of a gfn range
 * ({@code tdp_mmu_zap_leafs}, behind kvm_zap_gfn_range and the MMU notifiers) and one shadow page
 * ({@code kvm_tdp_mmu_zap_sp}, for NX recovery). Each returns whether a TLB flush is owed and leaves issuing it
 * to the caller, who must do so before dropping RCU; only a yield flushes on the way. Functions of the
 * {@link TdpMmu} they zap, as the kernel's are of {@code struct kvm}.
 */
public final class TdpZap {
    private TdpZap() {
    }

    /**
     * What a leaf zap of several roots comes to: whether a flush is still owed (a yield may have issued it), and
     * whether it removed any SPTE at all (what legacy notifier code OR-ed into its flush).
     */
    public record LeafZap(boolean flushOwed, boolean zappedAny) {
    }

    /**
     * tdp_mmu_zap_root(): everything under {@code root}. The root is unreachable by hardware (invalid) or no vCPU
     * can run (VM teardown), so no flush is needed. Current kernels zap level by level, 4K first, so each step
     * frees little and the walk can yield even inside a 512 GiB subtree; legacy ones zapped top-level entries,
     * with a freeze and flush per entry when shared.
     */
    static void zapRoot(TdpMmu mmu, KvmMmuPage root, boolean shared) {
        mmu.kvm.rcu().readLock();
        if (mmu.kvm.policy().has(Behaviour.MULTI_PASS_ROOT_ZAP)) {
            for (int level = Spte.PG_LEVEL_4K; level <= Spte.PG_LEVEL_1G; level++) {
                zapRootLevel(mmu, root, level, shared);
            }
        }
        zapRootLevel(mmu, root, root.level, shared);
        mmu.kvm.rcu().readUnlock();
    }

    private static void zapRootLevel(TdpMmu mmu, KvmMmuPage root, int zapLevel, boolean shared) {
        boolean legacyFlush = shared && !mmu.kvm.policy().has(Behaviour.NO_FLUSH_FOR_INVALID_ROOTS);
        long end = mmu.kvm.maxGfn() + 1;
        for (TdpIter it = new TdpIter(mmu.tables, root, zapLevel, 0, end); it.hasCurrent(); it.next()) {
            if (mmu.condResched(it, false, shared)) {
                continue;
            }
            if (!Spte.isPresent(it.oldSpte) || it.level() != zapLevel) {
                continue;
            }
            if (!shared) {
                mmu.setSpte(it, Spte.NONPRESENT);
            } else if (legacyFlush) {
                while (!mmu.zapSpteAtomic(it)) {
                    if (!Spte.isPresent(it.oldSpte)) {
                        break;
                    }
                }
            } else {
                while (!mmu.setSpteAtomic(it, Spte.NONPRESENT)) {
                    if (!Spte.isPresent(it.oldSpte)) {
                        break;
                    }
                }
            }
        }
    }

    /**
     * kvm_tdp_mmu_zap_all() (VM destruction, mm release): every root, write lock held. Legacy kernels flushed
     * at the end when anything was zapped.
     */
    public static void zapAll(TdpMmu mmu) {
        boolean zapped = false;
        for (KvmMmuPage r : mmu.rootsFor(-1, false)) {
            zapped |= hasPresent(r);
            zapRoot(mmu, r, false);
        }
        if (zapped && !mmu.kvm.policy().has(Behaviour.NO_FLUSH_ZAP_ALL)) {
            mmu.kvm.flushRemoteTlbs(FlushSite.ZAP_GFN_RANGE);
        }
    }

    private static boolean hasPresent(KvmMmuPage t) {
        for (long s : t.spt) {
            if (Spte.isPresent(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * kvm_tdp_mmu_zap_leafs(): the present leaf SPTEs of [start, end) in every valid root of every address
     * space (write lock). Legacy kvm_zap_gfn_range also zapped tables wholly inside the range, which freed them
     * (and flushed once per table).
     *
     * @return whether a flush is owed (flush-on-yield clears what was owed before the yield)
     */
    public static boolean zapLeafs(TdpMmu mmu, long start, long end, boolean canYield, boolean flush) {
        long limit = Math.min(end, mmu.kvm.maxGfn() + 1);
        boolean leafsOnly = mmu.kvm.policy().has(Behaviour.ZAP_GFN_RANGE_LEAFS_ONLY);
        for (KvmMmuPage root : mmu.rootsFor(-1, true)) {
            if (!mmu.getRoot(root)) {
                continue;
            }
            try {
                flush = zapLeafsInRoot(mmu, root, start, limit, canYield, flush, leafsOnly).flushOwed;
            } finally {
                // The walk held a reference, as tdp_mmu_next_root() does, so a yield could not free the root.
                mmu.putRoot(root);
            }
        }
        return flush;
    }

    /**
     * kvm_tdp_mmu_unmap_gfn_range() (MMU notifier, memslot removal with the quirk off): the slot's address space,
     * invalid roots included (they may still be reachable by a vCPU that has not reloaded yet), yielding only if
     * the notifier may block. Zaps in invalid roots owe no flush.
     */
    public static LeafZap unmapGfnRange(TdpMmu mmu, int asId, long start, long end, boolean mayBlock, boolean flush) {
        long limit = Math.min(end, mmu.kvm.maxGfn() + 1);
        boolean leafsOnly = mmu.kvm.policy().has(Behaviour.ZAP_GFN_RANGE_LEAFS_ONLY);
        boolean zappedAny = false;
        for (KvmMmuPage root : mmu.rootsFor(asId, false)) {
            if (!mmu.getRoot(root)) {
                continue;
            }
            try {
                LeafZap z = zapLeafsInRoot(mmu, root, start, limit, mayBlock, flush, leafsOnly);
                flush = z.flushOwed;
                zappedAny |= z.zappedAny;
            } finally {
                // The walk held a reference, as tdp_mmu_next_root() does, so a yield could not free the root.
                mmu.putRoot(root);
            }
        }
        return new LeafZap(flush, zappedAny);
    }

    /** tdp_mmu_zap_leafs() for one root. */
    private static LeafZap zapLeafsInRoot(TdpMmu mmu, KvmMmuPage root, long start, long end, boolean canYield, boolean flush,
                                          boolean leafsOnly) {
        boolean zappedAny = false;
        mmu.kvm.rcu().readLock();
        for (TdpIter it = new TdpIter(mmu.tables, root, Spte.PG_LEVEL_4K, start, end); it.hasCurrent(); it.next()) {
            if (canYield && mmu.condResched(it, flush, false)) {
                flush = false;
                continue;
            }
            long old = it.oldSpte;
            if (!Spte.isPresent(old)) {
                continue;
            }
            boolean leaf = Spte.isLastLevel(old, it.level());
            if (!leaf) {
                // Legacy: a table wholly inside the range goes too (and its subtree with it).
                boolean inside = it.gfn() >= start && it.gfn() + Spte.pagesPerEntry(it.level()) <= end;
                if (leafsOnly || !inside || it.level() == root.level) {
                    continue;
                }
            }
            mmu.setSpte(it, Spte.NONPRESENT);
            zappedAny = true;
            if (!root.invalid || !mmu.kvm.policy().has(Behaviour.NO_FLUSH_FOR_INVALID_ROOTS)) {
                flush = true;
            }
        }
        mmu.kvm.rcu().readUnlock();
        return new LeafZap(flush, zappedAny);
    }

    /**
     * kvm_tdp_mmu_zap_sp() (NX recovery, write lock): zaps the parent SPTE of {@code sp}, freeing its subtree.
     * Returns true: the caller owes a flush before it drops RCU.
     */
    public static boolean zapSp(TdpMmu mmu, KvmMmuPage sp) {
        KvmMmuPage parent = sp.parent;
        if (parent == null || !Spte.isPresent(parent.spt[sp.parentIndex])) {
            return false;
        }
        mmu.setSpte(parent, sp.parentIndex, sp.asId, sp.gfn, Spte.NONPRESENT, sp.level + 1);
        return true;
    }
}
