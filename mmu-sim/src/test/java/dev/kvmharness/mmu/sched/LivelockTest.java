// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

/**
 * SimScheduler.livelock(): the report a bounded loop throws from the thread that loops, in the words of a
 * deadlock report (seed, thread, virtual time), while the other threads run on.
 */
class LivelockTest {
    @Test
    void theLoopingThreadFailsWithSeedNameAndVirtualTimeAndTheOthersRunOn() {
        long seed = 0x5eed_4321L;
        try (SimScheduler s = Sims.attached(seed)) {
            SimThread spinner = s.spawn("vcpu3", () -> {
                for (int i = 1;; i++) {
                    s.advance(100);
                    s.yieldPoint();
                    if (i == 1000) {
                        throw s.livelock("retried the same thing " + i + " times");
                    }
                }
            });
            long[] worked = new long[1];
            SimThread worker = s.spawn("worker", () -> {
                for (int i = 0; i < 50; i++) {
                    s.sleep(10_000);
                    worked[0]++;
                }
            });
            SimThreadFailedException failed = catchThrowableOfType(SimThreadFailedException.class, () -> s.join(spinner));
            assertThat(failed).isNotNull();
            SimLivelockException e = (SimLivelockException) failed.getCause();
            assertThat(e.seed()).isEqualTo(seed);
            assertThat(e.threadName()).isEqualTo("vcpu3");
            assertThat(e.virtualNs()).isEqualTo(100_000);
            assertThat(e).hasMessage("livelock in the simulation, seed " + seed
                    + " (0x5eed4321): thread 'vcpu3' at 100000 ns: retried the same thing 1000 times");
            s.join(worker);
            assertThat(worked[0]).isEqualTo(50);
        }
    }

    /** othersMayAct(): false only when every other thread waits for something no one else will do. */
    @Test
    void othersMayActUnlessEveryOtherThreadWaitsForever() {
        try (SimScheduler s = Sims.attached(9)) {
            assertThat(s.othersMayAct()).as("main alone").isFalse();
            WaitQueue q = s.newWaitQueue("never");
            boolean[] seen = new boolean[3];
            SimThread t = s.spawn("t", () -> {
                s.sleep(1); // main, still at 0 ns, goes on into join
                seen[0] = s.othersMayAct(); // main is blocked in join, with no deadline
                s.spawn("sleeper", () -> s.sleep(1_000));
                seen[1] = s.othersMayAct(); // the sleeper is runnable
                s.sleep(5_000);
                seen[2] = s.othersMayAct(); // the sleeper ended
            });
            s.join(t);
            assertThat(seen).containsExactly(false, true, false);
            SimThread waiter = s.spawn("waiter", () -> q.await(() -> false, 10_000));
            s.yieldPoint();
            assertThat(s.othersMayAct()).as("a waiter with a deadline").isTrue();
            s.join(waiter);
        }
    }
}
