// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * One simulated thread (a vCPU thread, a uffd handler, the VM's creating thread): a real Java thread plus the
 * scheduler's view of it, the counterpart of a task_struct on a runqueue. It carries its virtual clock and the
 * intrusive links of the one structure it can wait on at a time, so that blocking and waking never allocate.
 *
 * <p>Every field except {@code baton}, {@code done} and {@code failure} is touched only by the thread holding the
 * baton (or, while nobody does, under the scheduler's lock); the volatile baton handoff orders those accesses.
 */
public final class SimThread {
    static final int READY = 0;
    static final int RUNNING = 1;
    static final int BLOCKED = 2;
    static final int DONE = 3;

    final SimScheduler sched;
    final String name;
    /** Creation order: the last tie-break and the order of deadlock reports. */
    final long id;
    Thread thread;

    /** Virtual time of this thread, ns. */
    long now;
    int state;

    // ready queue (ReadyQueue): position and sort key (virtual time it may run at, seeded tie-break)
    int heapIndex = -1;
    long key;
    long tie;

    /** The baton: set by the previous holder, consumed by this thread when it wakes up to run. */
    volatile boolean baton;
    volatile boolean done;
    /** How long to spin before parking when waiting for the baton (adapted in SimScheduler.awaitBaton). */
    int spinBudget = 64;
    private volatile Throwable failure;

    // blocking: what we wait on (for deadlock reports), whether a waker (rather than a timeout) ended the wait,
    // and the exception to throw when we resume (deadlock, shutdown)
    String waitingOn;
    boolean woken;
    RuntimeException pending;

    // WaitList links; waitMode/waitSince are for SimRwLock
    WaitList waitList;
    SimThread waitPrev;
    SimThread waitNext;
    int waitMode;
    long waitSince;

    /** The host CPU this thread runs on (HostCpus), or -1; and since when. */
    int cpu = -1;
    long cpuSince;

    /** Threads blocked in join() on this one. */
    final WaitList joiners = new WaitList();
    final String joinDescription;

    // RCU read-side state (Rcu): nesting depth, and the outermost section's place in the active list
    int rcuNesting;
    long rcuSeq;
    SimThread rcuPrev;
    SimThread rcuNext;
    boolean inRcuCallback;

    SimThread(SimScheduler sched, String name, long id, long now) {
        this.sched = sched;
        this.name = name;
        this.id = id;
        this.now = now;
        this.joinDescription = "join of thread '" + name + "'";
    }

    public String name() {
        return name;
    }

    /**
     * This thread's virtual time in ns. Exact while called by the baton holder or after the thread is done;
     * from other real threads it is only a snapshot.
     */
    public long now() {
        return now;
    }

    public boolean isDone() {
        return done;
    }

    /** What its body threw, or null. */
    public Throwable failure() {
        return failure;
    }

    void fail(Throwable t) {
        if (failure == null) {
            failure = t;
        } else if (failure != t) {
            failure.addSuppressed(t);
        }
    }

    @Override
    public String toString() {
        return "SimThread[" + name + " @" + now + "ns" + (done ? ", done" : "") + "]";
    }
}
