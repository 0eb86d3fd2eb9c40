// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.util.ArrayDeque;
import java.util.Objects;

/**
 * RCU in virtual time: the model of rcu_read_lock/rcu_read_unlock, call_rcu, synchronize_rcu and rcu_barrier
 * (kernel/rcu/tree.c) as the TDP MMU relies on them. Read sections are per thread and nest.
 *
 * <p>Grace periods are numbered and run one at a time, as in Tree RCU. A grace period started at virtual time s
 * completes once every read section that began before it started has ended, and not before s +
 * {@link Cost#RCU_GRACE_PERIOD}: its completion time is the later of the two. A callback queued while no grace
 * period is in progress waits for the one it starts; queued during one, it waits for the next, which starts when
 * the current one completes. So every callback runs after all read sections active at its call_rcu have ended
 * and at least RCU_GRACE_PERIOD ns after it.
 *
 * <p>Who runs callbacks: whichever simulated thread is the first to reach a scheduling point
 * ({@link SimScheduler#yieldPoint()} and every blocking call, which begins with one) with its clock at or past the
 * completion time, like the softirq on whichever CPU notices the end of the grace period. They run in that
 * thread's context and virtual time, in call_rcu order, and must not block or yield. {@link #synchronizeRcu()}
 * and {@link #barrier()} drive grace periods themselves, so callbacks also run when every other thread sleeps.
 */
public final class Rcu {
    private record Callback(Runnable body, long gp) {}

    private final SimScheduler sched;
    private final WaitQueue gpWaiters;
    private final ArrayDeque<Callback> callbacks = new ArrayDeque<>();

    /** Sequence number for the next outermost read section. */
    private long nextSectionSeq = 1;
    /** Active outermost sections, oldest first, linked through SimThread.rcuPrev/rcuNext. */
    private SimThread oldestSection;
    private SimThread newestSection;

    private long completed;
    private boolean gpInProgress;
    /** Sections with a smaller sequence number than this began before the current grace period. */
    private long gpStartSeq;
    private long gpMinEnd;
    /** When the last section that holds up the current grace period ended (or it started, if none did). */
    private long gpReadersDoneAt;
    private boolean gpReadersDone;
    /** Highest grace period some callback or waiter needs. */
    private long gpNeeded;
    /** The next grace period must not start before a call_rcu that asked for it (clocks are not in step). */
    private long nextGpEarliestStart;
    /** Completion times of the last four grace periods, by number mod 4 (monotonic in the number). */
    private final long[] completedAt = new long[4];
    private boolean polling;

    Rcu(SimScheduler sched) {
        this.sched = sched;
        this.gpWaiters = new WaitQueue(sched, "rcu grace period");
    }

    /** rcu_read_lock(): enters a read-side section of the calling thread (nests). Not a scheduling point. */
    public void readLock() {
        SimThread cur = sched.current();
        if (cur.rcuNesting++ == 0) {
            cur.rcuSeq = nextSectionSeq++;
            cur.rcuPrev = newestSection;
            cur.rcuNext = null;
            if (newestSection == null) {
                oldestSection = cur;
            } else {
                newestSection.rcuNext = cur;
            }
            newestSection = cur;
        }
    }

    /** rcu_read_unlock(): leaves one level; the outermost one may end the wait of a grace period. */
    public void readUnlock() {
        SimThread cur = sched.current();
        if (cur.rcuNesting == 0) {
            throw new IllegalStateException("rcu_read_unlock by thread '" + cur.name + "' outside a read section");
        }
        if (--cur.rcuNesting == 0) {
            endSection(cur);
        }
    }

    /** True if the calling thread is inside a read-side section. */
    public boolean inReadSection() {
        return sched.current().rcuNesting > 0;
    }

    /** call_rcu(): runs callback after a grace period (see the class comment for when and by whom). */
    public void callRcu(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        SimThread cur = sched.current();
        callbacks.addLast(new Callback(callback, requestGp(cur)));
    }

    /** synchronize_rcu(): blocks the caller in virtual time until a full grace period has elapsed. */
    public void synchronizeRcu() {
        SimThread cur = sched.current();
        checkMaySleep(cur, "synchronize_rcu");
        sched.yieldPoint();
        waitForGp(cur, requestGp(cur));
    }

    /**
     * rcu_barrier(): waits for the grace periods of every callback queued so far and runs them (or lets the
     * thread that completes the grace period run them). A scheduling point.
     */
    public void barrier() {
        SimThread cur = sched.current();
        checkMaySleep(cur, "rcu_barrier");
        sched.yieldPoint();
        Callback last = callbacks.peekLast();
        if (last == null) {
            return;
        }
        waitForGp(cur, last.gp);
        while (!callbacks.isEmpty() && callbacks.peekFirst().gp <= last.gp) {
            runReadyCallbacks(cur);
        }
    }

    /** Callbacks queued and not yet run. */
    public long pendingCallbacks() {
        return callbacks.size();
    }

    public long completedGracePeriods() {
        return completed;
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Called at a scheduling point of cur once cur.now >= sched.rcuNextDue: completes grace periods, runs callbacks. */
    void poll(SimThread cur) {
        if (polling) {
            return; // a callback reached a scheduling point that did not need a handoff
        }
        polling = true;
        try {
            runReadyCallbacks(cur);
            while (gpInProgress && gpReadersDone && cur.now >= gpEnd()) {
                completeGp();
                runReadyCallbacks(cur);
            }
        } finally {
            polling = false;
            updateNextDue();
        }
    }

    /** A thread ends (or leaves) inside a read section: its section ends with it. */
    void forceExit(SimThread t) {
        t.rcuNesting = 0;
        endSection(t);
    }

    private void endSection(SimThread cur) {
        boolean wasOldest = cur == oldestSection;
        if (cur.rcuPrev == null) {
            oldestSection = cur.rcuNext;
        } else {
            cur.rcuPrev.rcuNext = cur.rcuNext;
        }
        if (cur.rcuNext == null) {
            newestSection = cur.rcuPrev;
        } else {
            cur.rcuNext.rcuPrev = cur.rcuPrev;
        }
        cur.rcuPrev = null;
        cur.rcuNext = null;
        if (wasOldest && gpInProgress && !gpReadersDone && readersClear()) {
            gpReadersDone = true;
            gpReadersDoneAt = cur.now;
            updateNextDue();
            if (gpWaiters.waiters() > 0) {
                gpWaiters.wakeAll();
            }
        }
    }

    /** Registers the caller's need for a grace period that starts after now; returns its number. */
    private long requestGp(SimThread cur) {
        long target;
        if (gpInProgress) {
            target = completed + 2;
            nextGpEarliestStart = Math.max(nextGpEarliestStart, cur.now);
        } else {
            target = completed + 1;
            startGp(cur.now);
        }
        gpNeeded = Math.max(gpNeeded, target);
        return target;
    }

    private void startGp(long at) {
        long start = Math.max(at, completed == 0 ? 0 : completedAt[(int) (completed & 3)]);
        gpInProgress = true;
        gpStartSeq = nextSectionSeq;
        gpMinEnd = Math.addExact(start, sched.costs().ns(Cost.RCU_GRACE_PERIOD));
        gpReadersDone = readersClear();
        gpReadersDoneAt = start;
        nextGpEarliestStart = 0;
        updateNextDue();
    }

    private void completeGp() {
        long end = gpEnd();
        completed++;
        completedAt[(int) (completed & 3)] = end;
        gpInProgress = false;
        if (gpNeeded > completed) {
            startGp(Math.max(end, nextGpEarliestStart));
        }
        if (gpWaiters.waiters() > 0) {
            gpWaiters.wakeAll();
        }
    }

    private long gpEnd() {
        return Math.max(gpMinEnd, gpReadersDoneAt);
    }

    private boolean readersClear() {
        return oldestSection == null || oldestSection.rcuSeq >= gpStartSeq;
    }

    /** Blocks cur until grace period number target has completed; cur's clock ends at or after its completion. */
    private void waitForGp(SimThread cur, long target) {
        while (completed < target) {
            long due = sched.rcuNextDue;
            if (cur.now >= due) {
                poll(cur);
                continue;
            }
            // woken when the grace period completes or its readers are done; else times out when it is due
            gpWaiters.await(() -> completed >= target || sched.rcuNextDue != due,
                    due == Long.MAX_VALUE ? SimScheduler.NO_DEADLINE : due);
        }
        long end = completed - target < 4 ? completedAt[(int) (target & 3)] : completedAt[(int) ((completed - 3) & 3)];
        cur.now = Math.max(cur.now, end);
    }

    private void runReadyCallbacks(SimThread cur) {
        Callback cb;
        while ((cb = callbacks.peekFirst()) != null && cb.gp <= completed) {
            callbacks.pollFirst();
            cur.inRcuCallback = true;
            try {
                cb.body.run();
            } finally {
                cur.inRcuCallback = false;
            }
        }
    }

    private void updateNextDue() {
        Callback first = callbacks.peekFirst();
        if (first != null && first.gp <= completed) {
            sched.rcuNextDue = Long.MIN_VALUE; // left over after a callback threw: run at the next chance
        } else if (gpInProgress && gpReadersDone) {
            sched.rcuNextDue = gpEnd();
        } else {
            sched.rcuNextDue = Long.MAX_VALUE;
        }
    }

    private static void checkMaySleep(SimThread cur, String what) {
        if (cur.rcuNesting > 0) {
            throw new IllegalStateException(what + " by thread '" + cur.name
                    + "' inside an RCU read section would wait for itself");
        }
        if (cur.inRcuCallback) {
            throw new IllegalStateException(what + " by thread '" + cur.name + "' inside an RCU callback");
        }
    }
}
