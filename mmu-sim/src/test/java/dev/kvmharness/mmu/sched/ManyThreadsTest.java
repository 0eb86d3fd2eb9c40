// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManyThreadsTest {
    private static final int THREADS = 416;

    @Test
    void fourHundredSixteenThreadsSpawnContendAndJoin() {
        try (SimScheduler s = Sims.attached(416)) {
            SimRwLock mmuLock = s.newRwLock("mmu_lock");
            List<SimThread> vcpus = new ArrayList<>();
            long[] lastTime = new long[THREADS];
            for (int i = 0; i < THREADS; i++) {
                int id = i;
                s.charge(Cost.THREAD_START);
                vcpus.add(s.spawn("vcpu" + i, () -> {
                    for (int k = 0; k < 5; k++) {
                        s.charge(Cost.GUEST_INSN, 1 + s.random().nextInt(1000));
                        s.yieldPoint();
                        if ((id + k) % 4 == 0) {
                            mmuLock.writeLock();
                            s.charge(Cost.SPTE_WRITE);
                            mmuLock.writeUnlock();
                        } else {
                            mmuLock.readLock();
                            s.charge(Cost.SPTE_CMPXCHG);
                            mmuLock.readUnlock();
                        }
                    }
                    lastTime[id] = s.now();
                }));
            }
            long max = 0;
            for (SimThread t : vcpus) {
                s.join(t);
                assertThat(t.isDone()).isTrue();
                assertThat(t.failure()).isNull();
                max = Math.max(max, t.now());
            }
            for (int i = 0; i < THREADS; i++) {
                assertThat(lastTime[i]).isEqualTo(vcpus.get(i).now());
            }
            assertThat(s.now()).isEqualTo(max);
            assertThat(mmuLock.acquisitions()).isEqualTo(THREADS * 5L);
            assertThat(s.handoffs()).isGreaterThanOrEqualTo(THREADS);
        }
    }
}
