// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class DeterminismTest {
    private static final Cost[] COSTS = Cost.values();

    /** 16 threads doing seeded random charges, yields, sleeps, lock sections, timed waits and RCU work. */
    static List<String> scenario(long seed) {
        List<String> log = new ArrayList<>();
        try (SimScheduler s = Sims.attached(seed)) {
            SimRwLock lock = s.newRwLock("mmu_lock");
            WaitQueue q = s.newWaitQueue("tokens");
            Rcu rcu = s.rcu();
            int[] tokens = {0};
            List<SimThread> threads = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String name = "t" + i;
                threads.add(s.spawn(name, () -> {
                    RandomGenerator r = s.random();
                    for (int k = 0; k < 60; k++) {
                        int action = r.nextInt(8);
                        switch (action) {
                            case 0 -> s.charge(COSTS[r.nextInt(COSTS.length)], 1 + r.nextInt(3));
                            case 1 -> s.yieldPoint();
                            case 2 -> s.sleep(r.nextInt(500));
                            case 3 -> {
                                lock.writeLock();
                                s.sleep(r.nextInt(300));
                                lock.writeUnlock();
                            }
                            case 4 -> {
                                lock.readLock();
                                s.sleep(r.nextInt(300));
                                lock.readUnlock();
                            }
                            case 5 -> {
                                tokens[0]++;
                                q.wakeOne();
                            }
                            case 6 -> {
                                if (q.await(() -> tokens[0] > 0, s.now() + r.nextInt(2000))) {
                                    tokens[0]--;
                                }
                            }
                            default -> {
                                rcu.readLock();
                                s.sleep(r.nextInt(100));
                                rcu.callRcu(() -> log.add("rcu-cb@" + s.now()));
                                rcu.readUnlock();
                            }
                        }
                        log.add(name + ":" + action + "@" + s.now());
                    }
                }));
            }
            for (SimThread t : threads) {
                s.join(t);
            }
            rcu.barrier();
            log.add("end@" + s.now() + " handoffs=" + s.handoffs() + " lockwait=" + lock.waitNs()
                    + " gps=" + rcu.completedGracePeriods());
        }
        return log;
    }

    @Test
    void sameSeedGivesTheSameEventLogTwentyTimes() {
        List<String> first = scenario(0xC0FFEE);
        assertThat(first).hasSize(16 * 60 + 1 + (int) first.stream().filter(e -> e.startsWith("rcu-cb")).count());
        for (int run = 1; run < 20; run++) {
            assertThat(scenario(0xC0FFEE)).as("run %d", run).isEqualTo(first);
        }
    }

    @Test
    void differentSeedsGiveDifferentRuns() {
        List<String> a = scenario(1);
        List<String> b = scenario(2);
        assertThat(a).isNotEqualTo(b);
    }

    @Property(tries = 8)
    void anySeedReplays(@ForAll long seed) {
        assertThat(scenario(seed)).isEqualTo(scenario(seed));
    }
}
