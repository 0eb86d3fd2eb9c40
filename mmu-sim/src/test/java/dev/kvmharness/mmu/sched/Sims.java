// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/** Test helpers: a scheduler with the calling (JUnit) thread attached as "main" at time 0. */
final class Sims {
    private Sims() {}

    static SimScheduler attached(long seed) {
        return attached(seed, CostModel.defaults());
    }

    static SimScheduler attached(long seed, CostModel costs) {
        SimScheduler s = new SimScheduler(seed, costs);
        s.attachCurrent("main", 0);
        return s;
    }
}
