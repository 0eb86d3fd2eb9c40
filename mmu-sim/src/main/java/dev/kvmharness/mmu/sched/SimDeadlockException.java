// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * No simulated thread can ever run again: every live thread is blocked and none waits with a deadline. Thrown
 * from the blocking call of every blocked thread so that the test fails, naming the seed that replays it, instead
 * of hanging. The model of lockdep's or the hung-task detector's report, but certain rather than heuristic.
 */
public final class SimDeadlockException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long seed;

    SimDeadlockException(long seed, String message) {
        super(message);
        this.seed = seed;
    }

    /** The scheduler seed that replays this deadlock. */
    public long seed() {
        return seed;
    }
}
