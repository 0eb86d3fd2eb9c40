// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu;

/**
 * Whether the simulator's memos are checked: with {@code -Dkvmharness.sim.checkMemos=true} (every test run sets
 * it) each hit of a memo that saves repeating work, the vCPU's {@code GuestTableMemo} of its guest page tables'
 * EPT translations and the stale-translation oracle's memo of translations it found valid, is checked against
 * the work it saved, and a difference throws. Benchmarks and users' runs leave it off.
 */
public final class MemoCheck {
    public static final boolean ENABLED = Boolean.getBoolean("kvmharness.sim.checkMemos");

    private MemoCheck() {
    }
}
