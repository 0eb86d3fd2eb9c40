// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostCpusTest {
    private static final long SLICE = CostModel.defaults().ns(Cost.SCHED_SLICE);

    private static SimScheduler withCpus(int n) {
        SimScheduler s = new SimScheduler(5, CostModel.defaults(), n);
        s.attachCurrent("main", 0);
        return s;
    }

    /** Spawns n threads that each compute workNs in 1 µs steps; main waits for them; returns their end times. */
    private static List<Long> computeInParallel(SimScheduler s, int n, long workNs) {
        List<SimThread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(s.spawn("t" + i, () -> {
                for (long done = 0; done < workNs; done += 1000) {
                    s.advance(1000);
                    s.yieldPoint();
                }
            }));
        }
        List<Long> ends = new ArrayList<>();
        for (SimThread t : threads) {
            s.join(t);
            ends.add(t.now());
        }
        return ends;
    }

    @Test
    void withoutACountEveryThreadHasACpu() {
        try (SimScheduler s = withCpus(0)) {
            assertThat(computeInParallel(s, 4, 10_000)).containsOnly(10_000L);
            assertThat(s.cpuWaits()).isZero();
        }
    }

    @Test
    void threadsBeyondTheCpuCountWaitForACpu() {
        // main gives its CPU up while it waits in join(), so 2 CPUs run 4 threads in two rounds
        try (SimScheduler s = withCpus(2)) {
            assertThat(computeInParallel(s, 4, 10_000)).containsExactlyInAnyOrder(10_000L, 10_000L, 20_000L, 20_000L);
            // the second round's two threads wait 10 us each; main, woken by the first round's end, waits for the
            // second round to end too
            assertThat(s.cpuWaits()).isEqualTo(3);
            assertThat(s.cpuWaitNs()).isEqualTo(3 * 10_000);
        }
    }

    @Test
    void aThreadThatRunsForASliceGivesTheCpuToOneThatWaits() {
        try (SimScheduler s = withCpus(1)) {
            long work = 3 * SLICE;
            List<Long> ends = computeInParallel(s, 2, work);
            // they share the CPU slice by slice, so both end near 2 x work instead of one at work
            assertThat(ends).allSatisfy(e -> assertThat(e).isBetween(2 * work - SLICE - 1000, 2 * work));
            assertThat(s.cpuPreemptions()).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void aBlockedThreadRunsOnNoCpu() {
        try (SimScheduler s = withCpus(1)) {
            WaitQueue q = s.newWaitQueue("q");
            boolean[] set = {false};
            SimThread waiter = s.spawn("waiter", () -> q.await(() -> set[0]));
            SimThread worker = s.spawn("worker", () -> {
                s.advance(5000);
                set[0] = true;
                q.wakeAll();
            });
            s.join(worker);
            s.join(waiter);
            // the waiter blocked at once, so the worker did not wait for it; the waiter then waited for no CPU
            // longer than the worker took to end
            assertThat(worker.now()).isEqualTo(5000);
            assertThat(waiter.now()).isEqualTo(5000);
        }
    }

    /**
     * A sleeper blocks at once; a waker computes 10 us, wakes it and keeps its CPU 5 us more; main waits for both.
     * Returns the sleeper's end time.
     */
    private static long sleeperWokenWhileTheWakerRuns(SimScheduler s) {
        WaitQueue q = s.newWaitQueue("q");
        boolean[] go = {false};
        SimThread sleeper = s.spawn("sleeper", () -> q.await(() -> go[0]));
        SimThread waker = s.spawn("waker", () -> {
            s.advance(10_000);
            go[0] = true;
            q.wakeAll();
            s.advance(5_000);
        });
        s.join(waker);
        s.join(sleeper);
        return sleeper.now();
    }

    @Test
    void aWakeUpOntoAnIdleCpuPaysItsIdleExitAndOneOntoACpuJustLeftDoesNot() {
        long idleExit = CostModel.defaults().ns(Cost.CPU_IDLE_EXIT);
        try (SimScheduler s = withCpus(2)) {
            // main waits in join and the waker keeps its CPU: the sleeper wakes onto the CPU idle since it slept
            assertThat(sleeperWokenWhileTheWakerRuns(s)).isEqualTo(10_000 + idleExit);
            assertThat(s.cpuIdleExits()).isPositive();
        }
        try (SimScheduler s = withCpus(1)) {
            // one CPU: the sleeper waits for the waker to end and takes the CPU it leaves, warm
            assertThat(sleeperWokenWhileTheWakerRuns(s)).isEqualTo(15_000);
            assertThat(s.cpuIdleExits()).isZero();
        }
    }

    @Test
    void aCpuCountBelowOneIsRefused() {
        assertThatThrownBy(() -> new SimScheduler(1, CostModel.defaults(), -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host CPUs must be at least 1");
    }
}
