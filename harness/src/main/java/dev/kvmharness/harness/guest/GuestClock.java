// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/**
 * Where {@link GuestInterpreter} reads the time-stamp counter for {@link Insn.ReadTsc}. A backend that keeps
 * time (the simulator's virtual clock) implements it; instructions are charged to that clock only after a
 * {@link GuestInterpreter#run} returns, so the clock is told how many instructions of the current run came
 * before the read and must count them in.
 */
@FunctionalInterface
public interface GuestClock {
    /**
     * The TSC value the guest sees.
     *
     * @param stepsBefore instructions this {@link GuestInterpreter#run} call executed before the ReadTsc
     */
    long readTsc(long stepsBefore);
}
