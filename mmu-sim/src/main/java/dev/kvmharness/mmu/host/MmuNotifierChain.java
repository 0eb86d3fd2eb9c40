// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;
import java.util.ArrayList;
import java.util.List;

/**
 * The mm's MMU-notifier subscriptions (mm/mmu_notifier.c): {@code mmu_notifier_register()} /
 * {@code _unregister()}, {@code mmu_notifier_invalidate_range_start()} / {@code _end()},
 * {@code __mmu_notifier_release()}, and the aging hooks as include/linux/mmu_notifier.h combines them with
 * the primary MMU's Accessed bits: {@code ptep_clear_flush_young_notify()}, {@code ptep_clear_young_notify()}
 * and {@code mmu_notifier_test_young()}.
 *
 * <p>Each callback costs {@link Cost#HOST_NOTIFIER}. The chain is copied before it is called: a subscriber may
 * (un)register from a callback, and callbacks can sleep (KVM takes its mmu_lock), letting others change it.
 */
final class MmuNotifierChain {
    private final SimScheduler sched;
    private final HostPageTable pt;
    private final List<MmuNotifierOps> subscriptions = new ArrayList<>();
    private long invalidations;

    MmuNotifierChain(SimScheduler sched, HostPageTable pt) {
        this.sched = sched;
        this.pt = pt;
    }

    /** {@code mmu_notifier_register()}. */
    void register(MmuNotifierOps ops) {
        subscriptions.add(ops);
    }

    /** {@code mmu_notifier_unregister()}: calls release() for the subscriber, then forgets it. */
    void unregister(MmuNotifierOps ops) {
        if (subscriptions.remove(ops)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.release();
        }
    }

    /**
     * invalidate_range_start() and release() announcements so far. Every removal or replacement of a host
     * mapping is announced (MemoryUnmap; mm teardown), so while this stands still an hva mapped to a page
     * stays mapped to it.
     */
    long invalidations() {
        return invalidations;
    }

    /** {@code mmu_notifier_invalidate_range_start()} of a blockable range. */
    void invalidateRangeStart(long start, long end) {
        invalidations++;
        for (MmuNotifierOps ops : List.copyOf(subscriptions)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.invalidateRangeStart(start, end, true);
        }
    }

    /** {@code mmu_notifier_invalidate_range_end()}. */
    void invalidateRangeEnd(long start, long end) {
        for (MmuNotifierOps ops : List.copyOf(subscriptions)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.invalidateRangeEnd(start, end);
        }
    }

    /** {@code __mmu_notifier_release()} from exit_mmap: every subscriber's release(), then none is left. */
    void releaseAll() {
        invalidations++;
        for (MmuNotifierOps ops : List.copyOf(subscriptions)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.release();
        }
        subscriptions.clear();
    }

    /**
     * {@code ptep_clear_flush_young_notify()} over [start, end): the host PTEs' Accessed bits first, then each
     * subscriber's {@code clear_flush_young}; true if anything was young.
     */
    boolean clearFlushYoung(long start, long end) {
        boolean young = pt.testAndClearYoung(start, end);
        for (MmuNotifierOps ops : List.copyOf(subscriptions)) {
            sched.charge(Cost.HOST_NOTIFIER);
            young |= ops.clearFlushYoung(start, end);
        }
        return young;
    }

    /** {@code ptep_clear_young_notify()}: like {@link #clearFlushYoung} with the subscribers' clear_young. */
    boolean clearYoung(long start, long end) {
        boolean young = pt.testAndClearYoung(start, end);
        for (MmuNotifierOps ops : List.copyOf(subscriptions)) {
            sched.charge(Cost.HOST_NOTIFIER);
            young |= ops.clearYoung(start, end);
        }
        return young;
    }

    /** {@code pte_young() || mmu_notifier_test_young()}, as khugepaged asks it. */
    boolean testYoung(long hva) {
        boolean young = pt.walk(hva).young();
        for (MmuNotifierOps ops : List.copyOf(subscriptions)) {
            sched.charge(Cost.HOST_NOTIFIER);
            young |= ops.testYoung(hva);
        }
        return young;
    }
}
