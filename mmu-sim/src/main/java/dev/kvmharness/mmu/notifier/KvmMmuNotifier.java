// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.notifier;

import dev.kvmharness.mmu.host.MmuNotifierOps;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.observe.MmuObserver;
import dev.kvmharness.mmu.memslot.Memslots;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.WaitQueue;
import dev.kvmharness.mmu.tdp.TdpAge;
import dev.kvmharness.mmu.tdp.TdpZap;
import java.util.ArrayList;
import java.util.List;

/**
 * KVM's MMU notifier (virt/kvm/kvm_main.c): turns host-virtual ranges into gfn ranges over every memslot that
 * maps them (aliases included) and runs the arch handler under mmu_lock, taking the lock only if some slot
 * overlaps (__kvm_handle_hva_range). invalidate_range_start/end bracket the unmap with the invalidation state
 * faults check, and memslot updates wait until no invalidation is active.
 */
public final class KvmMmuNotifier implements MmuNotifierOps {
    private final SimKvm kvm;
    /** mn_active_invalidate_count. */
    private int activeInvalidateCount;
    private final WaitQueue memslotUpdateWait;
    /** Callbacks that reached __kvm_handle_hva_range(), of every kind (start, end, the young ones). */
    private long callbacks;
    /** Of those, the ones that took mmu_lock (for write): all of them without lock elision. */
    private long lockedCallbacks;
    /** clear_flush_young and clear_young callbacks (the kvm_age_hva tracepoint), and how many found a young SPTE. */
    private long ageCallbacks;
    private long ageYoung;
    /** test_young callbacks (kvm_test_age_hva), and how many found a young SPTE. */
    private long testAgeCallbacks;
    private long testAgeYoung;
    /** The gfn ranges the current invalidate_range_start unmapped, for the oracle to check afterwards. */
    private final List<UnmappedRange> pendingChecks = new ArrayList<>();

    /** A gfn range of one address space an invalidate_range_start zapped. */
    private record UnmappedRange(int asId, long gfnStart, long gfnEnd) {
    }

    /** struct kvm_mmu_notifier_return: the handlers' OR-ed result, and whether any memslot overlapped. */
    private record NotifierReturn(boolean ret, boolean foundMemslot) {
    }

    public KvmMmuNotifier(SimKvm kvm) {
        this.kvm = kvm;
        this.memslotUpdateWait = kvm.sched().newWaitQueue("mn_memslots_update_rcuwait");
    }

    /** What one notifier asks of each overlapping slot's gfn range. */
    private interface Handler {
        boolean handle(Memslot slot, long gfnStart, long gfnEnd, boolean mayBlock);
    }

    /**
     * __kvm_handle_hva_range(): one handler call per overlapping slot, in every address space; the first
     * overlap takes mmu_lock for write and runs {@code onLock}; one flush at the end (at {@code flushOnRet},
     * null for none) if owed.
     */
    private NotifierReturn handleHvaRange(String what, long start, long end, Handler handler, Runnable onLock, FlushSite flushOnRet,
                                          boolean mayBlock) {
        return handleHvaRange(what, start, end, handler, onLock, flushOnRet, mayBlock, false);
    }

    /** As above; {@code lockless} (range->lockless, the aging notifiers of 6.15) takes no mmu_lock at all. */
    private NotifierReturn handleHvaRange(String what, long start, long end, Handler handler, Runnable onLock, FlushSite flushOnRet,
                                          boolean mayBlock, boolean lockless) {
        kvm.sched().charge(Cost.HOST_NOTIFIER);
        callbacks++;
        boolean locked = false;
        boolean ret = false;
        boolean elide = kvm.policy().has(Behaviour.NOTIFIER_LOCK_ELISION);
        if (!elide && !lockless) {
            locked = true;
            kvm.mmuLock().writeLock();
            if (onLock != null) {
                onLock.run();
            }
        }
        boolean found = false;
        for (int as = 0; as < Memslots.ADDRESS_SPACES; as++) {
            for (Memslot slot : kvm.memslots().slotsInHvaRange(as, start, end)) {
                long sStart = slot.userspaceAddr();
                long sEnd = sStart + (slot.npages() << 12);
                long hvaStart = Math.max(start, sStart);
                long hvaEnd = Math.min(end, sEnd);
                if (hvaStart >= hvaEnd) {
                    continue;
                }
                found = true;
                long gfnStart = slot.baseGfn() + ((hvaStart - sStart) >>> 12);
                long gfnEnd = slot.baseGfn() + ((hvaEnd + 4095 - sStart) >>> 12);
                if (!locked && !lockless) {
                    locked = true;
                    kvm.mmuLock().writeLock();
                    if (onLock != null) {
                        onLock.run();
                    }
                }
                if (handler != null) {
                    ret |= handler.handle(slot, gfnStart, gfnEnd, mayBlock);
                }
            }
        }
        if (flushOnRet != null && ret) {
            kvm.flushRemoteTlbs(flushOnRet);
        }
        if (locked) {
            lockedCallbacks++;
            kvm.mmuLock().writeUnlock();
        }
        if (kvm.observer() != MmuObserver.NONE) {
            // Concatenation, not String.format: a host unmapping page by page makes millions of these.
            kvm.observer().note(what + " [0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")"
                    + (found ? "" : " (no memslot)"));
        }
        return new NotifierReturn(ret, found);
    }

    /** kvm_mmu_unmap_gfn_range(): widen the in-progress range, zap the leafs. */
    private boolean unmap(Memslot slot, long gfnStart, long gfnEnd, boolean mayBlock) {
        kvm.invalidate().rangeAdd(gfnStart, gfnEnd);
        pendingChecks.add(new UnmappedRange(slot.asId(), gfnStart, gfnEnd));
        TdpZap.LeafZap zap = TdpZap.unmapGfnRange(kvm.tdpMmu(), slot.asId(), gfnStart, gfnEnd, mayBlock, false);
        if (!kvm.policy().has(Behaviour.NOTIFIER_FLUSH_FROM_ZAPPER)) {
            // Before the fix the caller OR-ed "something was zapped" in, re-flushing what a yield already flushed.
            return zap.flushOwed() || zap.zappedAny();
        }
        return zap.flushOwed();
    }

    @Override
    public void invalidateRangeStart(long start, long end, boolean mayBlock) {
        activeInvalidateCount++;
        pendingChecks.clear();
        handleHvaRange("invalidate_range_start", start, end, this::unmap, kvm.invalidate()::begin, FlushSite.NOTIFIER_UNMAP, mayBlock);
        for (UnmappedRange r : pendingChecks) {
            kvm.observer().gfnRangeUnmapped("invalidate_range_start", r.asId(), r.gfnStart(), r.gfnEnd());
        }
        kvm.observer().checkpoint("invalidate_range_start");
    }

    @Override
    public void invalidateRangeEnd(long start, long end) {
        handleHvaRange("invalidate_range_end", start, end, null, kvm.invalidate()::end, null, false);
        if (--activeInvalidateCount == 0) {
            memslotUpdateWait.wakeAll();
        }
    }

    /**
     * kvm_mmu_notifier_clear_flush_young(): ages and, unless the arch elides it (x86 from 6.13), flushes when
     * anything was young.
     */
    @Override
    public boolean clearFlushYoung(long start, long end) {
        FlushSite flush = kvm.policy().has(Behaviour.AGE_WITHOUT_FLUSH) ? null : FlushSite.AGE;
        return aged(handleHvaRange("clear_flush_young", start, end, this::age, null, flush, false, lockless()).ret());
    }

    /** kvm_mmu_notifier_clear_young(): kvm_handle_hva_range_no_flush() of kvm_age_gfn, as idle page tracking calls it. */
    @Override
    public boolean clearYoung(long start, long end) {
        return aged(handleHvaRange("clear_young", start, end, this::age, null, null, false, lockless()).ret());
    }

    @Override
    public boolean testYoung(long hva) {
        testAgeCallbacks++;
        boolean young = handleHvaRange("test_young", hva, hva + 1, (slot, s, e, b) -> TdpAge.testAgeGfn(kvm.tdpMmu(), slot.asId(), s,
                lockless()), null, null, false, lockless()).ret();
        if (young) {
            testAgeYoung++;
        }
        return young;
    }

    private boolean aged(boolean young) {
        ageCallbacks++;
        if (young) {
            ageYoung++;
        }
        return young;
    }

    private boolean age(Memslot slot, long gfnStart, long gfnEnd, boolean mayBlock) {
        return TdpAge.ageGfnRange(kvm.tdpMmu(), slot.asId(), gfnStart, gfnEnd, lockless());
    }

    /** KVM_MMU_LOCKLESS_AGING: x86 with the TDP MMU ages without mmu_lock from 6.15. */
    private boolean lockless() {
        return kvm.policy().has(Behaviour.LOCKLESS_AGING);
    }

    /** kvm_mmu_notifier_release() → kvm_flush_shadow_all(): the mm is going away; zap everything. */
    @Override
    public void release() {
        kvm.mmuLock().writeLock();
        TdpZap.zapAll(kvm.tdpMmu());
        kvm.mmuLock().writeUnlock();
        kvm.observer().note("release");
    }

    /** kvm_swap_active_memslots() waits for this: no invalidation may straddle a memslot swap. */
    public void waitForNoActiveInvalidations() {
        memslotUpdateWait.await(() -> activeInvalidateCount == 0);
    }

    public int activeInvalidateCount() {
        return activeInvalidateCount;
    }

    /** How many notifier callbacks KVM received (each invalidate_range_start and _end counts once). */
    public long callbacks() {
        return callbacks;
    }

    /** clear_flush_young and clear_young callbacks so far (what the kvm_age_hva tracepoint counts). */
    public long ageCallbacks() {
        return ageCallbacks;
    }

    /** Of {@link #ageCallbacks()}, those that found (and cleared) an Accessed SPTE. */
    public long ageYoung() {
        return ageYoung;
    }

    /** test_young callbacks so far (kvm_test_age_hva). */
    public long testAgeCallbacks() {
        return testAgeCallbacks;
    }

    /** Of {@link #testAgeCallbacks()}, those that found an Accessed SPTE. */
    public long testAgeYoung() {
        return testAgeYoung;
    }

    /** How many of {@link #callbacks()} took mmu_lock for write (the ones lock elision did not skip). */
    public long lockedCallbacks() {
        return lockedCallbacks;
    }
}
