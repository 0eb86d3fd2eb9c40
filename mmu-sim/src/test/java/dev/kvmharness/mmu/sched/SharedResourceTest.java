// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SharedResourceTest {
    @Test
    void requestsAtTheSameTimeAreServedOneAfterTheOther() {
        try (SimScheduler s = Sims.attached(1)) {
            SharedResource bus = s.newSharedResource("bus");
            long[] done = new long[3];
            SimThread[] t = new SimThread[3];
            for (int i = 0; i < 3; i++) {
                int k = i;
                t[i] = s.spawn("cpu" + i, () -> {
                    s.yieldPoint();
                    bus.use(100, 10);
                    done[k] = s.now();
                });
            }
            for (SimThread x : t) {
                s.join(x);
            }
            // whoever came first is done at 100, the next at 200, the last at 300: the order is the seed's
            assertThat(done).containsExactlyInAnyOrder(100L, 200L, 300L);
            assertThat(bus.requests()).isEqualTo(3);
            assertThat(bus.contended()).isEqualTo(2);
            assertThat(bus.waitNs()).isEqualTo(100 + 200);
        }
    }

    @Test
    void theCallersOwnWorkOverlapsTheWait() {
        try (SimScheduler s = Sims.attached(1)) {
            SharedResource bus = s.newSharedResource("bus");
            bus.use(10, 500); // the CPU's own loop is the longer part
            assertThat(s.now()).isEqualTo(500);
            bus.use(10, 0);
            assertThat(s.now()).as("the bus was free again at 10").isEqualTo(510);
            assertThat(bus.waitNs()).isZero();
        }
    }

    @Test
    void anAtomicCostsATransferOnlyWhenAnotherCpuWroteTheLineLast() {
        long transfer = CostModel.defaults().ns(Cost.CACHELINE_TRANSFER);
        try (SimScheduler s = Sims.attached(1)) {
            SharedResource line = s.newSharedResource("line");
            line.atomic();
            line.atomic();
            assertThat(s.now()).as("the second atomic finds the line in this CPU's cache").isEqualTo(transfer);
            SimThread other = s.spawn("other", line::atomic);
            s.join(other);
            assertThat(other.now()).isEqualTo(transfer + transfer);
            long before = s.now();
            line.atomic();
            assertThat(s.now() - before).as("the line moved to 'other' and back").isGreaterThanOrEqualTo(transfer);
            assertThat(line.requests()).isEqualTo(3);
        }
    }
}
