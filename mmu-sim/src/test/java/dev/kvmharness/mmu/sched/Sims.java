// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * Test helpers shared by the sched and host tests: a scheduler with the calling (JUnit) thread attached as
 * "main" at virtual time 0.
 */
public final class Sims {
    private Sims() {}

    public static SimScheduler attached(long seed) {
        return attached(seed, CostModel.defaults());
    }

    public static SimScheduler attached(long seed, CostModel costs) {
        SimScheduler s = new SimScheduler(seed, costs);
        s.attachCurrent("main", 0);
        return s;
    }
}
