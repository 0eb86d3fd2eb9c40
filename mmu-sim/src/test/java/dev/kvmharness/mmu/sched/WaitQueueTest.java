// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaitQueueTest {

    @Test
    void conditionAlreadyTrueDoesNotBlock() {
        try (SimScheduler s = Sims.attached(1)) {
            WaitQueue q = s.newWaitQueue("q");
            q.await(() -> true);
            assertThat(q.await(() -> true, 0)).isTrue();
            assertThat(s.handoffs()).isZero();
            assertThat(s.now()).isZero();
        }
    }

    @Test
    void wokenThreadResumesAtTheWakersTime() {
        try (SimScheduler s = Sims.attached(2)) {
            WaitQueue q = s.newWaitQueue("q");
            boolean[] flag = {false};
            long[] resumedAt = {-1};
            SimThread waiter = s.spawn("waiter", () -> {
                q.await(() -> flag[0]);
                resumedAt[0] = s.now();
            });
            s.yieldPoint(); // let the waiter block (tie at 0 decided by the seed, so yield until it waits)
            while (q.waiters() == 0) {
                s.sleep(1);
            }
            s.advance(5000);
            long wakeTime = s.now();
            flag[0] = true;
            q.wakeAll();
            assertThat(q.waiters()).isZero();
            s.join(waiter);
            assertThat(resumedAt[0]).isEqualTo(wakeTime);
        }
    }

    @Test
    void wakeOneIsFifoByArrival() {
        try (SimScheduler s = Sims.attached(3)) {
            WaitQueue q = s.newWaitQueue("tokens");
            int[] tokens = {0};
            List<String> order = new ArrayList<>();
            List<SimThread> threads = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String name = "w" + i;
                long arrival = 10L * (i + 1);
                threads.add(s.spawn(name, () -> {
                    s.sleep(arrival);
                    q.await(() -> tokens[0] > 0);
                    tokens[0]--;
                    order.add(name);
                }));
            }
            s.sleep(100);
            assertThat(q.waiters()).isEqualTo(4);
            for (int i = 0; i < 4; i++) {
                tokens[0]++;
                q.wakeOne();
                s.sleep(1); // the woken waiter runs, takes the token
                assertThat(q.waiters()).isEqualTo(3 - i);
            }
            for (SimThread t : threads) {
                s.join(t);
            }
            assertThat(order).containsExactly("w0", "w1", "w2", "w3");
        }
    }

    @Test
    void wokenWaiterRechecksAndWaitsAgain() {
        try (SimScheduler s = Sims.attached(4)) {
            WaitQueue q = s.newWaitQueue("q");
            boolean[] flag = {false};
            int[] checks = {0};
            SimThread waiter = s.spawn("waiter", () -> q.await(() -> {
                checks[0]++;
                return flag[0];
            }));
            s.sleep(10);
            assertThat(q.waiters()).isEqualTo(1);
            q.wakeOne(); // condition still false
            s.sleep(10);
            assertThat(q.waiters()).isEqualTo(1);
            assertThat(waiter.isDone()).isFalse();
            flag[0] = true;
            q.wakeOne();
            s.join(waiter);
            assertThat(checks[0]).isEqualTo(3);
        }
    }

    @Test
    void timedWaitExpiresAtExactlyTheDeadline() {
        try (SimScheduler s = Sims.attached(5)) {
            WaitQueue q = s.newWaitQueue("q");
            s.advance(100);
            assertThat(q.await(() -> false, 7_100)).isFalse();
            assertThat(s.now()).isEqualTo(7_100);
            // a deadline already passed returns at once
            assertThat(q.await(() -> false, 50)).isFalse();
            assertThat(s.now()).isEqualTo(7_100);
        }
    }

    @Test
    void timedWaitRunsAfterEarlierThreadsAndBeforeLaterOnes() {
        try (SimScheduler s = Sims.attached(6)) {
            WaitQueue q = s.newWaitQueue("q");
            List<String> log = new ArrayList<>();
            SimThread early = s.spawn("early", () -> {
                s.sleep(999);
                log.add("early@" + s.now());
                s.sleep(2);
                log.add("late@" + s.now());
            });
            boolean got = q.await(() -> false, 1000);
            log.add("main@" + s.now());
            s.join(early);
            assertThat(got).isFalse();
            assertThat(log).containsExactly("early@999", "main@1000", "late@1001");
        }
    }

    @Test
    void timedWaitWokenBeforeTheDeadlineReturnsTrueAtTheWakersTime() {
        try (SimScheduler s = Sims.attached(7)) {
            WaitQueue q = s.newWaitQueue("q");
            boolean[] flag = {false};
            SimThread waker = s.spawn("waker", () -> {
                s.sleep(300);
                flag[0] = true;
                q.wakeOne();
            });
            assertThat(q.await(() -> flag[0], 10_000)).isTrue();
            assertThat(s.now()).isEqualTo(300);
            s.join(waker);
        }
    }
}
