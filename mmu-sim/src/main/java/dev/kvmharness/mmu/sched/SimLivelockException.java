// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * A simulated thread keeps repeating the same step without getting anywhere (a vCPU whose page fault returns
 * RET_PF_RETRY without end): it stays runnable, so no deadlock is ever found, and its virtual clock runs on, so
 * the simulation would spin forever. Thrown from the looping thread once the model's bound on that loop is
 * passed ({@link SimScheduler#livelock}), so that the test fails, naming what looped, the thread, its virtual
 * time and the seed that replays it, instead of hanging. The bound counts iterations, never wall time, so the
 * same seed fails at the same point. The counterpart of {@link SimDeadlockException} for threads that can run.
 */
public final class SimLivelockException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long seed;
    private final String threadName;
    private final long virtualNs;

    SimLivelockException(long seed, String threadName, long virtualNs, String message) {
        super(message);
        this.seed = seed;
        this.threadName = threadName;
        this.virtualNs = virtualNs;
    }

    /** The scheduler seed that replays this livelock. */
    public long seed() {
        return seed;
    }

    /** The simulated thread that looped. */
    public String threadName() {
        return threadName;
    }

    /** That thread's virtual time when the bound was passed, ns. */
    public long virtualNs() {
        return virtualNs;
    }
}
