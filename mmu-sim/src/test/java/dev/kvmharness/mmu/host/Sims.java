// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;

/** Test helper: a scheduler with the calling JUnit thread attached as "main" at virtual time 0. */
final class Sims {
    private Sims() {
    }

    static SimScheduler attached(long seed) {
        SimScheduler s = new SimScheduler(seed, CostModel.defaults());
        s.attachCurrent("main", 0);
        return s;
    }
}
