// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.spte.Spte;
import java.util.ArrayList;
import java.util.List;
import dev.kvmharness.mmu.memslot.Memslot;

/**
 * arch/x86/kvm/mmu/tdp_mmu.c, the part every flow shares: the roots list and their references, the SPTE
 * setters and the bookkeeping behind every SPTE change (handle_changed_spte, handle_removed_pt), and the
 * cond_resched yield. The flows themselves live beside it: {@link TdpFault} (kvm_tdp_mmu_map), {@link TdpZap}
 * (the zap flows), {@link TdpDirtyLog} (write-protect, clear dirty, split, collapse), {@link TdpAge} (aging).
 *
 * <p>Everything runs under the simulator's baton, so plain field writes are the kernel's atomic operations:
 * a "cmpxchg" fails only if another simulated thread changed the SPTE at a scheduling point in between.
 */
public final class TdpMmu {
    final TdpKvm kvm;
    /** kvm.sched(), read once: every SPTE visited charges its cost to it. */
    final SimScheduler sched;
    final SpTable tables = new SpTable();
    /** kvm->arch.tdp_mmu_roots; new roots at the head. */
    private final List<KvmMmuPage> roots = new ArrayList<>();
    /** kvm->arch.tdp_mmu_pages: non-root tables linked into a root. */
    long tdpMmuPages;
    /** kvm->arch.possible_nx_huge_pages (oldest at the head). */
    KvmMmuPage nxHead;
    KvmMmuPage nxTail;
    /** SPTEs visited since the last yield, for the need_resched() stand-in. */
    private int visitedSinceYield;

    public TdpMmu(TdpKvm kvm) {
        this.kvm = kvm;
        this.sched = kvm.sched();
    }

    public SpTable tables() {
        return tables;
    }

    /** The roots, newest first (a copy). */
    public List<KvmMmuPage> roots() {
        return new ArrayList<>(roots);
    }

    public long tdpMmuPages() {
        return tdpMmuPages;
    }

    // ---------------------------------------------------------------- roots

    /**
     * kvm_tdp_mmu_alloc_root(): a reference to the valid root for this address space, reusing one if it exists.
     * A new root starts with two references, the vCPU's and the TDP MMU's own, kept until it is invalidated;
     * legacy kernels gave it only the vCPU's, so it died with the last vCPU that used it.
     */
    public KvmMmuPage allocRoot(int asId) {
        int level = kvm.rootLevel();
        for (KvmMmuPage r : roots) {
            if (!r.invalid && r.asId == asId && r.level == level && getRoot(r)) {
                return r;
            }
        }
        sched.charge(Cost.SP_ALLOC);
        KvmMmuPage root = tables.alloc(level, asId, 0, Spte.NONPRESENT);
        root.rootRefcount = kvm.policy().has(Behaviour.PRESERVE_ROOTS_UNTIL_INVALIDATED) ? 2 : 1;
        roots.add(0, root);
        return root;
    }

    /** kvm_tdp_mmu_get_root(): increment-if-nonzero. */
    public boolean getRoot(KvmMmuPage root) {
        if (root.rootRefcount == 0) {
            return false;
        }
        root.rootRefcount++;
        return true;
    }

    /**
     * kvm_tdp_mmu_put_root(): on the last reference the root leaves the list and is freed after a grace
     * period. Current kernels only get here with invalid, already zapped roots; legacy ones zapped the whole
     * root right here, without yielding.
     */
    public void putRoot(KvmMmuPage root) {
        if (--root.rootRefcount > 0) {
            return;
        }
        if (!root.invalid && kvm.policy().has(Behaviour.PRESERVE_ROOTS_UNTIL_INVALIDATED)) {
            throw new IllegalStateException("KVM bug: last reference to valid root " + root + " dropped");
        }
        if (!kvm.policy().has(Behaviour.PRESERVE_ROOTS_UNTIL_INVALIDATED)) {
            kvm.rcu().readLock();
            for (int i = 0; i < Spte.PT_ENTRIES; i++) {
                long old = root.spt[i];
                if (Spte.isPresent(old)) {
                    tables.store(root, i, Spte.NONPRESENT);
                    handleChangedSpte(root.asId, root.gfn + i * Spte.pagesPerEntry(root.level), old, Spte.NONPRESENT, root.level, false);
                }
            }
            kvm.rcu().readUnlock();
        }
        roots.remove(root);
        freeSpAfterGracePeriod(root);
    }

    /**
     * kvm_tdp_mmu_invalidate_all_roots(): marks every root invalid so vCPUs drop it and no new reference is taken;
     * the TDP MMU's own reference is handed to the zapper (tdp_mmu_scheduled_root_to_zap). Legacy: the zapper took
     * a reference of its own.
     */
    public void invalidateAllRoots() {
        for (KvmMmuPage r : roots) {
            if (!r.invalid) {
                r.invalid = true;
                if (kvm.policy().has(Behaviour.PRESERVE_ROOTS_UNTIL_INVALIDATED)) {
                    r.scheduledRootToZap = true;
                } else if (getRoot(r)) {
                    r.scheduledRootToZap = true;
                }
            }
        }
    }

    /**
     * kvm_tdp_mmu_zap_invalidated_roots(): zaps each scheduled root (mmu_lock held for read) and drops the
     * reference the invalidation gifted. No TLB flush: no vCPU can use an invalid root once it reloads, and each
     * vCPU flushes locally when it loads the new one. Legacy zapped each top-level entry with freeze+flush.
     */
    public void zapInvalidatedRoots() {
        for (KvmMmuPage r : roots()) {
            if (!r.scheduledRootToZap) {
                continue;
            }
            r.scheduledRootToZap = false;
            TdpZap.zapRoot(this, r, true);
            putRoot(r);
        }
    }

    /** The roots of an address space a yield-safe walker may visit: valid ones, or all if {@code onlyValid} is off. */
    List<KvmMmuPage> rootsFor(int asId, boolean onlyValid) {
        List<KvmMmuPage> out = new ArrayList<>();
        boolean skipInvalid = onlyValid && kvm.policy().has(Behaviour.ONLY_VALID_ROOT_ITERATORS);
        for (KvmMmuPage r : roots) {
            if ((asId < 0 || r.asId == asId) && !(skipInvalid && r.invalid) && r.rootRefcount > 0) {
                out.add(r);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- SPTE changes

    /**
     * handle_changed_spte(): what every SPTE change implies: page stats when leaf-ness changes, the host page's
     * accessed/dirty state when a leaf goes away, and recursive teardown when a table is disconnected.
     */
    void handleChangedSpte(int asId, long gfn, long old, long nw, int level, boolean shared) {
        boolean wasPresent = Spte.isPresent(old);
        boolean isPresent = Spte.isPresent(nw);
        boolean wasLeaf = wasPresent && Spte.isLastLevel(old, level);
        boolean isLeaf = isPresent && Spte.isLastLevel(nw, level);
        boolean pfnChanged = Spte.pfn(old) != Spte.pfn(nw);
        if (old == nw) {
            return;
        }
        if (wasLeaf && isLeaf && pfnChanged) {
            throw new IllegalStateException("KVM bug: present leaf SPTE changed PFN without a zap at gfn 0x"
                    + Long.toHexString(gfn) + " level " + level);
        }
        if (!wasPresent && !isPresent) {
            if (!Spte.isMmio(old) && !Spte.isMmio(nw) && !Spte.isFrozen(nw)) {
                throw new IllegalStateException("KVM bug: non-present SPTE 0x" + Long.toHexString(old) + " changed to non-present 0x"
                        + Long.toHexString(nw) + " at gfn 0x" + Long.toHexString(gfn));
            }
            return;
        }
        if (isLeaf && !Spte.writableInvariantsHold(nw)) {
            throw new IllegalStateException("KVM bug: SPTE 0x" + Long.toHexString(nw) + " breaks the writable invariants");
        }
        if ((gfn & (Spte.pagesPerEntry(level) - 1)) != 0) {
            throw new IllegalStateException("KVM bug: gfn 0x" + Long.toHexString(gfn) + " misaligned for level " + level);
        }
        if (isLeaf != wasLeaf) {
            kvm.accountPages(level, isLeaf ? 1 : -1);
        }
        if (wasPresent && (!isPresent || !isLeaf || pfnChanged || (Spte.isWritable(old) && !Spte.isWritable(nw)))
                && kvm.debugChecks()) {
            kvm.observer().flushOwed(gfn, Spte.pagesPerEntry(level));
        }
        if (wasLeaf && Spte.isDirty(old) && (!isLeaf || !Spte.isDirty(nw) || pfnChanged)) {
            kvm.phys().markDirty(Spte.pfn(old));
        }
        if (wasLeaf && Spte.isAccessed(old) && (!isLeaf || !Spte.isAccessed(nw) || pfnChanged)) {
            kvm.phys().markAccessed(Spte.pfn(old));
        }
        if (wasPresent && !wasLeaf && (isLeaf || !isPresent || pfnChanged)) {
            handleRemovedPt(tables.get((int) Spte.pfn(old)), shared);
        }
    }

    /**
     * handle_removed_pt(): a table no longer reachable from its parent: unlink it, freeze every entry (tearing
     * down the subtree below), and free it after an RCU grace period. Current kernels leave the TLB flush to the
     * caller, who must issue it before dropping RCU; legacy ones flushed here, once per removed table.
     */
    void handleRemovedPt(KvmMmuPage sp, boolean shared) {
        unlinkSp(sp);
        int level = sp.level;
        long step = Spte.pagesPerEntry(level);
        for (int i = 0; i < Spte.PT_ENTRIES; i++) {
            long old = sp.spt[i];
            if (shared) {
                // The kernel spins while another thread has the entry frozen; under the baton nobody can.
                tables.store(sp, i, Spte.FROZEN);
            } else {
                if (!Spte.isPresent(old)) {
                    continue;
                }
                tables.store(sp, i, Spte.FROZEN);
            }
            sched.charge(Cost.SPTE_WRITE);
            handleChangedSpte(sp.asId, sp.gfn + i * step, old, Spte.FROZEN, level, shared);
        }
        if (!kvm.policy().has(Behaviour.DEFER_REMOVED_PT_FLUSH)) {
            kvm.flushRemoteTlbsRange(FlushSite.REMOVED_PT);
        }
        freeSpAfterGracePeriod(sp);
    }

    /** tdp_mmu_unlink_sp(): off the pages count and the NX list. */
    private void unlinkSp(KvmMmuPage sp) {
        tdpMmuPages--;
        if (sp.nxHugePageDisallowed) {
            sp.nxHugePageDisallowed = false;
            untrackPossibleNxHugePage(sp);
        }
    }

    private void freeSpAfterGracePeriod(KvmMmuPage sp) {
        kvm.rcu().callRcu(() -> {
            sched.charge(Cost.SP_FREE);
            tables.free(sp);
        });
    }

    /** tdp_mmu_set_spte() (mmu_lock held for write): write and account the change. */
    void setSpte(KvmMmuPage table, int index, int asId, long gfn, long nw, int level) {
        long old = table.spt[index];
        if (Spte.isFrozen(old) || Spte.isFrozen(nw)) {
            throw new IllegalStateException("KVM bug: frozen SPTE under the write lock at gfn 0x" + Long.toHexString(gfn));
        }
        tables.store(table, index, nw);
        sched.charge(Cost.SPTE_WRITE);
        handleChangedSpte(asId, gfn, old, nw, level, false);
    }

    /** tdp_mmu_iter_set_spte(). */
    void setSpte(TdpIter it, long nw) {
        setSpte(it.table(), it.index(), it.root().asId, it.gfn(), nw, it.level());
        it.setOldSpte(nw);
    }

    /**
     * tdp_mmu_set_spte_atomic() (mmu_lock held for read): cmpxchg from the iterator's snapshot. On failure the
     * snapshot holds what was found and the caller retries at the same position.
     */
    boolean setSpteAtomic(TdpIter it, long nw) {
        if (kvm.debugChecks() && !kvm.mmuLock().isReadLockedByCurrent()) {
            // lockdep_assert_held_read(): a cmpxchg is how readers race each other; under the write lock KVM
            // writes plainly (tdp_mmu_iter_set_spte), and without the lock it must not write at all. A debug
            // check, like lockdep: with the checks on (the oracle), since the reader scan is per cmpxchg.
            throw new IllegalStateException("KVM bug: atomic SPTE update without mmu_lock held for read at gfn 0x"
                    + Long.toHexString(it.gfn()));
        }
        if (it.yielded()) {
            throw new IllegalStateException("KVM bug: atomic SPTE update on a yielded iterator");
        }
        sched.charge(Cost.SPTE_CMPXCHG);
        long cur = it.readSpte();
        if (cur != it.oldSpte || Spte.isFrozen(cur)) {
            it.setOldSpte(cur);
            return false;
        }
        tables.store(it.table(), it.index(), nw);
        handleChangedSpte(it.root().asId, it.gfn(), cur, nw, it.level(), true);
        it.setOldSpte(nw);
        return true;
    }

    /**
     * tdp_mmu_zap_spte_atomic(): freeze the entry so nobody else touches it, flush (vCPUs may still cache what
     * it mapped), then make it non-present and tear down what it pointed to.
     */
    boolean zapSpteAtomic(TdpIter it) {
        sched.charge(Cost.SPTE_CMPXCHG);
        long cur = it.readSpte();
        if (cur != it.oldSpte || Spte.isFrozen(cur)) {
            it.setOldSpte(cur);
            return false;
        }
        tables.store(it.table(), it.index(), Spte.FROZEN);
        kvm.flushRemoteTlbsRange(FlushSite.ZAP_SPTE_ATOMIC);
        tables.store(it.table(), it.index(), Spte.NONPRESENT);
        handleChangedSpte(it.root().asId, it.gfn(), cur, Spte.NONPRESENT, it.level(), true);
        it.setOldSpte(Spte.NONPRESENT);
        return true;
    }

    /**
     * tdp_mmu_iter_cond_resched(): after forward progress, if the scheduler or a lock waiter wants the CPU:
     * flush what is pending (before dropping RCU, so no vCPU can still use a table this thread is about to let
     * go of; legacy kernels flushed after), drop and retake mmu_lock, and restart the walk from the root.
     *
     * @return true if it yielded; the caller must {@code continue} without touching the iterator's SPTE
     */
    boolean condResched(TdpIter it, boolean flush, boolean shared) {
        if (!it.madeProgress()) {
            return false;
        }
        int every = kvm.yieldEvery();
        if (every <= 0 || ++visitedSinceYield < every) {
            return false;
        }
        visitedSinceYield = 0;
        boolean flushFirst = kvm.policy().has(Behaviour.FLUSH_BEFORE_YIELD);
        if (flush && flushFirst) {
            kvm.flushRemoteTlbs(FlushSite.YIELD);
        }
        kvm.rcu().readUnlock();
        if (flush && !flushFirst) {
            kvm.flushRemoteTlbs(FlushSite.YIELD);
        }
        if (shared) {
            kvm.mmuLock().readUnlock();
            sched.yieldPoint();
            kvm.mmuLock().readLock();
        } else {
            kvm.mmuLock().writeUnlock();
            sched.yieldPoint();
            kvm.mmuLock().writeLock();
        }
        kvm.rcu().readLock();
        it.markYielded();
        return true;
    }

    /**
     * fast_pf_fix_direct_spte(): the lockless cmpxchg that makes an MMU-writable SPTE writable again; the CPU
     * sets D on the write it retries. No handle_changed_spte(): nothing it tracks changed.
     */
    public boolean fastFixWritable(KvmMmuPage table, int index, long old) {
        sched.charge(Cost.SPTE_CMPXCHG);
        if (table.spt[index] != old) {
            return false;
        }
        tables.store(table, index, old | Spte.WRITABLE | Spte.DIRTY);
        return true;
    }

    // ---------------------------------------------------------------- NX huge pages list

    /** track_possible_nx_huge_page(). */
    void trackPossibleNxHugePage(KvmMmuPage sp) {
        if (sp.nxTracked) {
            return;
        }
        sp.nxTracked = true;
        sp.nxPrev = nxTail;
        sp.nxNext = null;
        if (nxTail != null) {
            nxTail.nxNext = sp;
        } else {
            nxHead = sp;
        }
        nxTail = sp;
        kvm.accountNxLpageSplits(1);
    }

    /** untrack_possible_nx_huge_page(). */
    void untrackPossibleNxHugePage(KvmMmuPage sp) {
        if (!sp.nxTracked) {
            return;
        }
        sp.nxTracked = false;
        if (sp.nxPrev != null) {
            sp.nxPrev.nxNext = sp.nxNext;
        } else {
            nxHead = sp.nxNext;
        }
        if (sp.nxNext != null) {
            sp.nxNext.nxPrev = sp.nxPrev;
        } else {
            nxTail = sp.nxPrev;
        }
        sp.nxPrev = null;
        sp.nxNext = null;
        kvm.accountNxLpageSplits(-1);
    }

    /** The oldest page on the possible-NX-huge-pages list, or null. */
    public KvmMmuPage oldestPossibleNxHugePage() {
        return nxHead;
    }

    /** Unlinks a page from the NX list without zapping it (its slot is being dirty-logged). */
    public void forgetPossibleNxHugePage(KvmMmuPage sp) {
        sp.nxHugePageDisallowed = false;
        untrackPossibleNxHugePage(sp);
    }

    // ---------------------------------------------------------------- walks for oracles and tests

    /**
     * kvm_tdp_mmu_get_walk() for the checkers and tests: a fresh {@link EptWalk} of {@code root} for
     * {@code gfn}. KVM walks under RCU, so reaching a freed table is a bug of the model.
     */
    public EptWalk walk(KvmMmuPage root, long gfn) {
        EptWalk w = new EptWalk(tables).walk(root, gfn);
        if (w.reachedFreedTable()) {
            throw new IllegalStateException("walk of " + root + " reached a freed table at gfn 0x" + Long.toHexString(gfn));
        }
        return w;
    }

    /** The first gfn in [start, end) a present leaf of {@code root} maps, or -1. */
    public long firstPresentLeaf(KvmMmuPage root, long start, long end) {
        for (TdpIter it = new TdpIter(tables, root, Spte.PG_LEVEL_4K, start, end); it.hasCurrent(); it.next()) {
            if (Spte.isLeaf(it.oldSpte, it.level())) {
                return Math.max(it.gfn(), start);
            }
        }
        return -1;
    }

    /** A writable 4K SPTE of {@code slot} under {@code root} whose bit in {@code bitmap} is clear, described; or null. */
    public String writableWithoutDirtyBit(KvmMmuPage root, Memslot slot, long[] bitmap) {
        long base = slot.baseGfn();
        for (TdpIter it = new TdpIter(tables, root, Spte.PG_LEVEL_4K, base, base + slot.npages()); it.hasCurrent(); it.next()) {
            long s = it.oldSpte;
            if (it.level() == Spte.PG_LEVEL_4K && Spte.isLeaf(s, Spte.PG_LEVEL_4K) && Spte.isWritable(s)) {
                long rel = it.gfn() - base;
                if ((bitmap[(int) (rel >>> 6)] & (1L << (rel & 63))) == 0) {
                    return String.format("gfn 0x%x is writable in %s but not marked dirty", it.gfn(), root);
                }
            }
        }
        return null;
    }

    /** Present leaf SPTEs per level in every root: what pages_4k/2m/1g must equal. */
    public long[] countLeafs() {
        long[] n = new long[6];
        for (KvmMmuPage r : roots) {
            countLeafs(r, n);
        }
        return n;
    }

    private void countLeafs(KvmMmuPage t, long[] n) {
        for (int i = 0; i < Spte.PT_ENTRIES; i++) {
            long s = t.spt[i];
            if (!Spte.isPresent(s)) {
                continue;
            }
            if (Spte.isLastLevel(s, t.level)) {
                n[t.level]++;
            } else {
                countLeafs(tables.get((int) Spte.pfn(s)), n);
            }
        }
    }
}
