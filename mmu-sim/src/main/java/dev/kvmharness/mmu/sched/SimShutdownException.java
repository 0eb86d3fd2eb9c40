// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * The simulation was closed ({@link SimScheduler#close()}) while this thread was blocked or still running: thrown
 * from its blocking call or scheduling point so that the thread unwinds and ends, as a task gets a fatal signal
 * while the VM is torn down.
 */
public final class SimShutdownException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SimShutdownException(String message) {
        super(message);
    }
}
