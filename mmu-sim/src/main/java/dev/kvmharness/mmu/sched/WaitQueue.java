// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.util.function.BooleanSupplier;

/**
 * Threads blocking until a condition holds, in virtual time: the model of a wait_queue_head_t with wait_event /
 * wait_event_timeout and wake_up. Waiters are exclusive and FIFO, so {@link #wakeOne()} behaves like wake_up on
 * exclusive waiters (EPOLLEXCLUSIVE). A waker does not give up the baton: the woken thread becomes runnable at
 * max(its now, the waker's now) and runs at a later scheduling point.
 */
public final class WaitQueue {
    private final SimScheduler sched;
    private final String name;
    private final String description;
    private final WaitList waiters = new WaitList();

    WaitQueue(SimScheduler sched, String name) {
        this.sched = sched;
        this.name = name;
        this.description = "wait queue '" + name + "'";
    }

    public String name() {
        return name;
    }

    /**
     * Blocks the caller until condition is true. A scheduling point; the condition is then checked first
     * without blocking, and again each time the caller is woken. While blocked the thread is not runnable; when
     * it resumes its now = max(its now, waker's now at wake).
     */
    public void await(BooleanSupplier condition) {
        awaitUntil(condition, SimScheduler.NO_DEADLINE);
    }

    /**
     * Like {@link #await(BooleanSupplier)} with a virtual-time deadline (absolute ns). If nothing wakes the caller
     * first, it becomes runnable at exactly {@code deadlineNs} (when nothing earlier is runnable) and returns
     * the condition's value then, like wait_event_timeout: false unless it came true at the deadline. A deadline
     * at or before the caller's now returns at once.
     */
    public boolean await(BooleanSupplier condition, long deadlineNs) {
        return awaitUntil(condition, deadlineNs);
    }

    private boolean awaitUntil(BooleanSupplier condition, long deadline) {
        SimThread cur = sched.current();
        sched.yieldPoint();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (cur.now >= deadline) {
                return false;
            }
            waiters.add(cur);
            try {
                sched.block(cur, description, deadline);
            } finally {
                waiters.remove(cur);
            }
            if (!cur.woken) {
                return condition.getAsBoolean();
            }
        }
    }

    /** Wakes the longest-waiting thread (FIFO). Not a scheduling point. */
    public void wakeOne() {
        SimThread waker = sched.current();
        SimThread t = waiters.poll();
        if (t != null) {
            sched.wake(t, waker);
        }
    }

    /** Wakes every waiting thread, in FIFO order. Not a scheduling point. */
    public void wakeAll() {
        SimThread waker = sched.current();
        SimThread t;
        while ((t = waiters.poll()) != null) {
            sched.wake(t, waker);
        }
    }

    /** Number of threads currently blocked here. */
    public int waiters() {
        return waiters.size();
    }

    @Override
    public String toString() {
        return "WaitQueue[" + name + ", " + waiters.size() + " waiting]";
    }
}
