// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * {@link SimScheduler#join} found that the joined simulated thread ended by throwing; the cause is what its body
 * threw. Like pthread_join returning a failed thread's status, but with the stack trace.
 */
public final class SimThreadFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient SimThread thread;

    SimThreadFailedException(SimThread thread, Throwable cause) {
        super("simulated thread " + thread.name() + " failed at " + thread.now() + " ns: " + cause, cause);
        this.thread = thread;
    }

    /** The thread that failed. */
    public SimThread thread() {
        return thread;
    }
}
