// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * The host's CPUs, when a run gives their number: simulated threads (vCPU threads, userfaultfd readers, the
 * main thread) then share them, as tasks share a runqueue. A thread holds a CPU while it runs; it gives it up
 * when it blocks (any wait: a userfault, a lock's queue, a join, a sleep, a guest spinning in a wait) or ends, or
 * at a scheduling point once it has run for a slice ({@link Cost#SCHED_SLICE}) while others wait. A thread that
 * wakes, or starts, takes the CPU that has been free longest, or queues for one, first come first served. The
 * time it waits is its runqueue wait. A CPU that was already idle when the thread became runnable must first
 * leave its idle state ({@link Cost#CPU_IDLE_EXIT}): what a wake-up costs when it goes to an idle CPU, as Linux
 * sends it when one is free, instead of to the waker's CPU, which the waker is about to leave.
 *
 * <p>What this leaves out of a real scheduler: wake-up preemption (a woken thread waits for a CPU to be given up
 * even if the runner has used little of its slice), CPU affinity and migration costs, and spinning: a thread
 * waiting for a spinlock holds no CPU here.
 *
 * <p>Touched only by the baton holder.
 */
final class HostCpus {
    private static final long BUSY = Long.MAX_VALUE;

    /** For each CPU, when it became free, or BUSY. */
    private final long[] freeSince;
    private final WaitList waiters = new WaitList();
    private static final String WAIT_DESCRIPTION = "a host CPU";
    private long waits;
    private long waitNs;
    private long preemptions;
    private final long idleExitNs;
    private long idleExits;

    HostCpus(int n, long idleExitNs) {
        if (n < 1) {
            throw new IllegalArgumentException("host CPUs must be at least 1, not " + n);
        }
        freeSince = new long[n];
        this.idleExitNs = idleExitNs;
    }

    int count() {
        return freeSince.length;
    }

    /** Takes the CPU free longest, starting no earlier than it became free; false if all are busy. */
    boolean tryTake(SimThread t) {
        int best = -1;
        for (int i = 0; i < freeSince.length; i++) {
            if (freeSince[i] != BUSY && (best < 0 || freeSince[i] < freeSince[best])) {
                best = i;
            }
        }
        if (best < 0) {
            return false;
        }
        if (freeSince[best] > t.now) {
            recordWait(freeSince[best] - t.now);
            t.now = freeSince[best];
        } else if (freeSince[best] < t.now) {
            idleExits++;
            t.now += idleExitNs;
        }
        take(t, best);
        return true;
    }

    private void take(SimThread t, int cpu) {
        freeSince[cpu] = BUSY;
        t.cpu = cpu;
        t.cpuSince = t.now;
    }

    /**
     * t gives up its CPU at t.now; the longest waiter, if any, gets it at that time and is returned (the caller
     * makes it runnable).
     */
    SimThread release(SimThread t) {
        int cpu = t.cpu;
        if (cpu < 0) {
            return null;
        }
        t.cpu = -1;
        SimThread next = waiters.poll();
        if (next == null) {
            freeSince[cpu] = t.now;
            return null;
        }
        if (t.now > next.now) {
            recordWait(t.now - next.now);
            next.now = t.now;
        }
        take(next, cpu);
        return next;
    }

    /** t found no CPU: it waits in line (the caller blocks it). */
    void enqueue(SimThread t) {
        waiters.add(t);
    }

    /** Whether a thread that could run waits for a CPU. */
    boolean hasWaiters() {
        return !waiters.isEmpty();
    }

    /** Whether t has used up its slice while others wait for a CPU. */
    boolean sliceOver(SimThread t, long sliceNs) {
        return t.cpu >= 0 && !waiters.isEmpty() && t.now - t.cpuSince >= sliceNs;
    }

    void countPreemption() {
        preemptions++;
    }

    String waitDescription() {
        return WAIT_DESCRIPTION;
    }

    private void recordWait(long ns) {
        waits++;
        waitNs += ns;
    }

    /** Times a thread had to wait for a CPU. */
    long waits() {
        return waits;
    }

    /** Total virtual time threads waited for a CPU, ns. */
    long waitNs() {
        return waitNs;
    }

    /** Wake-ups that found their CPU idle. */
    long idleExits() {
        return idleExits;
    }

    /** Threads that gave up their CPU at the end of a slice. */
    long preemptions() {
        return preemptions;
    }
}
