// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;
import java.util.function.LongUnaryOperator;

/**
 * The TDP MMU's slot-wide and masked SPTE edits for dirty logging (tdp_mmu.c): write-protection and its undoing,
 * eager huge page splitting, and zapping or recovering collapsible tables when logging stops. None of these flush: their
 * callers do, once, where the spec says. Functions of the {@link TdpMmu} they edit, as the kernel's are of
 * {@code struct kvm}; aging is in {@link TdpAge}.
 */
public final class TdpDirtyLog {
    private TdpDirtyLog() {
    }

    /**
     * kvm_tdp_mmu_wrprot_slot() (mmu_lock for read): clears W on every writable leaf at or above
     * {@code minLevel}, keeping MMU-writable so a fast page fault may restore it.
     *
     * @return whether anything changed
     */
    public static boolean wrprotSlot(TdpMmu mmu, Memslot slot, int minLevel) {
        boolean changed = false;
        for (KvmMmuPage root : mmu.rootsFor(slot.asId(), true)) {
            if (!mmu.getRoot(root)) {
                continue;
            }
            try {
                mmu.kvm.rcu().readLock();
                for (TdpIter it = new TdpIter(mmu.tables, root, minLevel, slot.baseGfn(), slot.baseGfn() + slot.npages());
                     it.hasCurrent(); it.next()) {
                    if (mmu.condResched(it, false, true)) {
                        continue;
                    }
                    long old = it.oldSpte;
                    if (!Spte.isLeaf(old, it.level()) || it.level() < minLevel || !Spte.isWritable(old)) {
                        continue;
                    }
                    while (!mmu.setSpteAtomic(it, it.oldSpte & ~Spte.WRITABLE)) {
                        if (!Spte.isLeaf(it.oldSpte, it.level()) || !Spte.isWritable(it.oldSpte)) {
                            break;
                        }
                    }
                    changed = true;
                }
                mmu.kvm.rcu().readUnlock();
            } finally {
                // The walk held a reference, as tdp_mmu_next_root() does, so a yield could not free the root.
                mmu.putRoot(root);
            }
        }
        return changed;
    }

    /**
     * kvm_tdp_mmu_clear_dirty_pt_masked() with wrprot (no PML), i.e. clear_dirty_pt_masked() per valid root:
     * re-protects the 4K SPTEs of the gfns set in {@code mask}, 64 gfns from {@code slot.base + gfnOffset}
     * (mmu_lock for write). An SPTE whose W bit is already clear is skipped, page and all, as the kernel does:
     * nothing could have written through it since it was last protected, so its page is not re-dirtied.
     */
    public static void clearDirtyPtMasked(TdpMmu mmu, Memslot slot, long gfnOffset, long mask) {
        long base = slot.baseGfn() + gfnOffset;
        for (KvmMmuPage root : mmu.rootsFor(slot.asId(), true)) {
            long left = mask;
            mmu.kvm.rcu().readLock();
            TdpIter it = new TdpIter(mmu.tables, root, Spte.PG_LEVEL_4K, base + Long.numberOfTrailingZeros(mask), base + Long.SIZE);
            for (; it.hasCurrent() && left != 0; it.next()) {
                long old = it.oldSpte;
                if (it.level() > Spte.PG_LEVEL_4K || !Spte.isLeaf(old, Spte.PG_LEVEL_4K)
                        || (left & (1L << (it.gfn() - base))) == 0) {
                    continue;
                }
                left &= ~(1L << (it.gfn() - base));
                if (!Spte.isWritable(old)) {
                    continue;
                }
                // tdp_mmu_clear_spte_bits(): a bit flip, no handle_changed_spte(); then kvm_set_pfn_dirty().
                mmu.tables.store(it.table(), it.index(), old & ~Spte.WRITABLE);
                it.setOldSpte(old & ~Spte.WRITABLE);
                mmu.sched.charge(Cost.SPTE_WRITE);
                mmu.kvm.phys().markDirty(Spte.pfn(old));
            }
            mmu.kvm.rcu().readUnlock();
        }
    }

    /**
     * kvm_tdp_mmu_write_protect_gfn(): removes W and MMU-writable from the leafs at or above {@code minLevel}
     * mapping {@code gfn}, so fast page faults cannot undo it (mmu_lock for write).
     */
    public static boolean writeProtectGfn(TdpMmu mmu, Memslot slot, long gfn, int minLevel) {
        boolean changed = false;
        for (KvmMmuPage root : mmu.rootsFor(slot.asId(), true)) {
            mmu.kvm.rcu().readLock();
            for (TdpIter it = new TdpIter(mmu.tables, root, minLevel, gfn, gfn + 1); it.hasCurrent(); it.next()) {
                long old = it.oldSpte;
                if (!Spte.isLeaf(old, it.level()) || it.level() < minLevel) {
                    continue;
                }
                long nw = old & ~(Spte.WRITABLE | Spte.MMU_WRITABLE);
                if (nw != old) {
                    mmu.setSpte(it, nw);
                    changed = true;
                }
            }
            mmu.kvm.rcu().readUnlock();
        }
        return changed;
    }

    /**
     * kvm_tdp_mmu_zap_collapsible_sptes() (mmu_lock for read): when logging stops, zap each table (2M/1G entry)
     * that could be a huge page again, so the next fault maps it huge. Up to 6.12 each zap freezes the entry and
     * flushes on its own; with {@link Behaviour#BATCH_COLLAPSIBLE_ZAP_FLUSH} a cmpxchg clears it and one flush per
     * root (or per yield) covers the batch.
     */
    public static void zapCollapsibleSptes(TdpMmu mmu, Memslot slot, LongUnaryOperator hostLevelOfGfn) {
        if (mmu.kvm.policy().has(Behaviour.BATCH_COLLAPSIBLE_ZAP_FLUSH)) {
            collapse(mmu, slot, hostLevelOfGfn, true, it -> mmu.setSpteAtomic(it, Spte.NONPRESENT) ? CHANGED : LOST);
        } else {
            collapse(mmu, slot, hostLevelOfGfn, false, it -> mmu.zapSpteAtomic(it) ? CHANGED : LOST);
        }
    }

    /**
     * kvm_tdp_mmu_recover_huge_pages() (6.13, mmu_lock for read): replaces each table that could be a huge page
     * again by that huge SPTE, built from the first present leaf below it (tdp_mmu_make_huge_spte()), so no vCPU
     * has to fault to get it back. The table goes to RCU as a zapped one would; one flush per root covers the
     * batch, since the vCPUs may still cache the small translations.
     */
    public static void recoverHugePages(TdpMmu mmu, Memslot slot, LongUnaryOperator hostLevelOfGfn) {
        collapse(mmu, slot, hostLevelOfGfn, true, it -> {
            long huge = makeHugeSpte(mmu, it);
            if (huge == Spte.NONPRESENT) {
                return SKIPPED;
            }
            return mmu.setSpteAtomic(it, huge) ? CHANGED : LOST;
        });
    }

    /** What a collapse step did with one table entry: replaced it, lost a race for it (retry), or left it. */
    private static final int CHANGED = 0;
    private static final int LOST = 1;
    private static final int SKIPPED = 2;

    /** Replaces one collapsible table entry; the iterator's snapshot is a present table. */
    private interface CollapseStep {
        int apply(TdpIter it);
    }

    /**
     * The walk kvm_tdp_mmu_zap_collapsible_sptes() and kvm_tdp_mmu_recover_huge_pages() share: every valid root,
     * each 2M/1G table entry of the slot that lpage_info and the host mapping allow to be huge. A batched walk
     * flushes what it owes before each yield and once before dropping RCU.
     */
    private static void collapse(TdpMmu mmu, Memslot slot, LongUnaryOperator hostLevelOfGfn, boolean batched, CollapseStep step) {
        for (KvmMmuPage root : mmu.rootsFor(slot.asId(), true)) {
            if (!mmu.getRoot(root)) {
                continue;
            }
            try {
                mmu.kvm.rcu().readLock();
                boolean flush = false;
                TdpIter it = new TdpIter(mmu.tables, root, Spte.PG_LEVEL_2M, slot.baseGfn(), slot.baseGfn() + slot.npages());
                for (; it.hasCurrent(); it.next()) {
                    if (mmu.condResched(it, flush, true)) {
                        flush = false;
                        continue;
                    }
                    long old = it.oldSpte;
                    // Entries reaching outside the slot are visited too; they can never be collapsed for it.
                    if (it.gfn() < slot.baseGfn() || it.gfn() >= slot.baseGfn() + slot.npages()) {
                        continue;
                    }
                    if (it.level() > Spte.PG_LEVEL_1G || !Spte.isPresent(old) || Spte.isLastLevel(old, it.level())) {
                        continue;
                    }
                    int max = maxMappingLevel(mmu, slot, it.gfn(), hostLevelOfGfn);
                    if (max < it.level()) {
                        continue;
                    }
                    int done;
                    while ((done = step.apply(it)) == LOST) {
                        if (!Spte.isPresent(it.oldSpte) || Spte.isLastLevel(it.oldSpte, it.level())) {
                            break;
                        }
                    }
                    flush |= batched && done == CHANGED;
                }
                if (flush) {
                    mmu.kvm.flushRemoteTlbsRange(FlushSite.COLLAPSE_BATCH);
                }
                mmu.kvm.rcu().readUnlock();
            } finally {
                // The walk held a reference, as tdp_mmu_next_root() does, so a yield could not free the root.
                mmu.putRoot(root);
            }
        }
    }

    /**
     * tdp_mmu_make_huge_spte() and make_huge_spte(): the huge SPTE the table at {@code it} can become, made from
     * the first present leaf below it: PS set, the address aligned down to the huge page, and X cleared while
     * the NX huge page mitigation is on. NONPRESENT if no leaf is present (nothing to recover from).
     */
    static long makeHugeSpte(TdpMmu mmu, TdpIter it) {
        int level = it.level();
        long start = Spte.alignDown(it.gfn(), level);
        for (TdpIter child = new TdpIter(mmu.tables, it.root(), Spte.PG_LEVEL_4K, start, start + Spte.pagesPerEntry(level));
             child.hasCurrent(); child.next()) {
            mmu.sched.charge(Cost.SPTE_READ);
            long small = child.oldSpte;
            if (child.level() >= level || !Spte.isLeaf(small, child.level())) {
                continue;
            }
            long pfn = Spte.pfn(small) & -Spte.pagesPerEntry(level);
            long huge = (small & ~Spte.PFN_MASK) | Spte.LARGE | (pfn << 12);
            return mmu.kvm.nxHugePages() ? huge & ~Spte.EXECUTABLE : huge;
        }
        return Spte.NONPRESENT;
    }

    /** kvm_mmu_max_mapping_level(): the lpage_info and host mapping limits for gfn. */
    private static int maxMappingLevel(TdpMmu mmu, Memslot slot, long gfn, LongUnaryOperator hostLevelOfGfn) {
        int level = Spte.PG_LEVEL_1G;
        while (level > Spte.PG_LEVEL_4K && !mmu.kvm.lpageAllowed(slot, gfn, level)) {
            level--;
        }
        // The host mapping is only consulted when lpage_info allows a huge page at all.
        return level == Spte.PG_LEVEL_4K ? Spte.PG_LEVEL_4K : Math.min(level, (int) hostLevelOfGfn.applyAsLong(gfn));
    }

    /**
     * kvm_tdp_mmu_try_split_huge_pages(): splits every huge leaf of [start, end) down to {@code targetLevel} in
     * the valid roots of the slot's address space, without a flush (the children map the same memory).
     *
     * @return the number of huge pages split
     */
    public static long trySplitHugePages(TdpMmu mmu, Memslot slot, long start, long end, int targetLevel, boolean shared) {
        long split = 0;
        TdpFault splitter = new TdpFault(mmu).shared(shared);
        for (KvmMmuPage root : mmu.rootsFor(slot.asId(), true)) {
            if (!mmu.getRoot(root)) {
                continue;
            }
            try {
                mmu.kvm.rcu().readLock();
                TdpIter it = new TdpIter(mmu.tables, root, targetLevel + 1, start, end);
                for (; it.hasCurrent(); it.next()) {
                    if (mmu.condResched(it, false, shared)) {
                        continue;
                    }
                    long old = it.oldSpte;
                    if (it.level() <= targetLevel || !Spte.isLeaf(old, it.level()) || it.level() == Spte.PG_LEVEL_4K) {
                        continue;
                    }
                    mmu.sched.charge(Cost.SP_ALLOC);
                    KvmMmuPage sp = mmu.tables.alloc(it.level() - 1, root.asId, Spte.alignDown(it.gfn(), it.level()), Spte.NONPRESENT);
                    if (splitter.splitHugePage(it, sp)) {
                        split++;
                    } else {
                        mmu.tables.free(sp);
                    }
                }
                mmu.kvm.rcu().readUnlock();
            } finally {
                // The walk held a reference, as tdp_mmu_next_root() does, so a yield could not free the root.
                mmu.putRoot(root);
            }
        }
        return split;
    }
}
