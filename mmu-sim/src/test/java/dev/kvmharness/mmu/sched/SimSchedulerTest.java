// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SimSchedulerTest {

    @Test
    void attachedThreadHoldsTheBatonAndKeepsTime() {
        try (SimScheduler s = new SimScheduler(7, CostModel.defaults())) {
            assertThat(s.isAttached()).isFalse();
            SimThread main = s.attachCurrent("main", 1000);
            assertThat(s.isAttached()).isTrue();
            assertThat(s.current()).isSameAs(main);
            assertThat(s.seed()).isEqualTo(7);
            assertThat(s.now()).isEqualTo(1000);
            s.charge(Cost.IPI);
            s.charge(Cost.SPTE_WRITE, 3);
            s.advance(5);
            s.sleep(10);
            s.yieldPoint();
            assertThat(main.now()).isEqualTo(1000 + 1200 + 24 + 5 + 10);
            assertThat(s.handoffs()).isZero();
            s.detachCurrent();
            assertThat(s.isAttached()).isFalse();
            assertThat(main.isDone()).isTrue();
        }
    }

    @Test
    void nextEventIsTheEarliestOtherThreadsClock() {
        try (SimScheduler s = Sims.attached(1)) {
            assertThat(s.nextEventNs()).as("nobody else").isEqualTo(Long.MAX_VALUE);
            SimThread t = s.spawn("sleeper", () -> s.sleep(5_000));
            // The sleeper is runnable at the caller's time until it has run.
            assertThat(s.nextEventNs()).isZero();
            s.advance(10);
            s.yieldPoint();
            assertThat(s.nextEventNs()).as("the sleeper wakes at 5000 ns").isEqualTo(5_000);
            s.advance(4_000);
            s.yieldPoint();
            assertThat(s.now()).isEqualTo(4_010);
            s.advance(1_000);
            s.join(t);
            assertThat(s.nextEventNs()).isEqualTo(Long.MAX_VALUE);
        }
    }

    @Test
    void negativeTimeIsRejected() {
        try (SimScheduler s = Sims.attached(1)) {
            assertThatThrownBy(() -> s.advance(-1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> s.charge(Cost.LOCK, -1)).isInstanceOf(IllegalArgumentException.class);
            assertThat(s.now()).isZero();
        }
    }

    @Test
    void secondAttachIsRefusedWhileAThreadIsAlive() {
        try (SimScheduler s = Sims.attached(1)) {
            assertThatThrownBy(() -> s.attachCurrent("again", 0))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'main'");
        }
    }

    @Test
    void aForeignThreadIsNotSimulated() throws InterruptedException {
        try (SimScheduler s = Sims.attached(1)) {
            AtomicReference<Throwable> seen = new AtomicReference<>();
            AtomicReference<Boolean> attached = new AtomicReference<>();
            Thread foreign = new Thread(() -> {
                attached.set(s.isAttached());
                try {
                    s.charge(Cost.LOCK);
                } catch (Throwable t) {
                    seen.set(t);
                }
            }, "foreign");
            foreign.start();
            foreign.join();
            assertThat(attached.get()).isFalse();
            assertThat(seen.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("thread foreign is not simulated by this VM");
            assertThat(s.now()).isZero();
        }
    }

    @Test
    void spawnedThreadStartsAtTheCallersTimeAndRunsOnlyAtASchedulingPoint() {
        try (SimScheduler s = Sims.attached(3)) {
            List<String> log = new ArrayList<>();
            s.advance(500);
            SimThread child = s.spawn("child", () -> log.add("child@" + s.now()));
            assertThat(child.now()).isEqualTo(500);
            log.add("main@" + s.now());
            s.advance(1);
            log.add("main@" + s.now());
            s.yieldPoint(); // child (500) is earlier than main (501)
            log.add("main@" + s.now());
            assertThat(log).containsExactly("main@500", "main@501", "child@500", "main@501");
            assertThat(child.isDone()).isTrue();
            assertThat(s.handoffs()).isEqualTo(2);
        }
    }

    @Test
    void batonGoesToTheSmallestVirtualTime() {
        try (SimScheduler s = Sims.attached(11)) {
            List<Long> times = new ArrayList<>();
            List<String> who = new ArrayList<>();
            long[] steps = {7, 3, 5};
            List<SimThread> threads = new ArrayList<>();
            for (int i = 0; i < steps.length; i++) {
                long step = steps[i];
                String name = "t" + i;
                threads.add(s.spawn(name, () -> {
                    for (int k = 0; k < 20; k++) {
                        s.advance(step);
                        s.yieldPoint();
                        times.add(s.now());
                        who.add(name);
                    }
                }));
            }
            for (SimThread t : threads) {
                s.join(t);
            }
            assertThat(times).hasSize(60).isSorted();
            assertThat(who.stream().filter("t1"::equals)).hasSize(20);
            assertThat(s.now()).isEqualTo(140); // max of 7*20, 3*20, 5*20
        }
    }

    @Test
    void joinTakesTheLaterClockAndRethrowsFailures() {
        try (SimScheduler s = Sims.attached(5)) {
            SimThread slow = s.spawn("slow", () -> s.advance(10_000));
            s.join(slow);
            assertThat(s.now()).isEqualTo(10_000);

            IllegalArgumentException boom = new IllegalArgumentException("boom");
            SimThread bad = s.spawn("bad", () -> {
                s.advance(3);
                throw boom;
            });
            assertThatThrownBy(() -> s.join(bad))
                    .isInstanceOf(SimThreadFailedException.class)
                    .hasMessageContaining("bad")
                    .hasCause(boom);
            assertThat(bad.failure()).isSameAs(boom);
            assertThat(bad.isDone()).isTrue();
            // joining an already-finished thread does not block and still reports its failure
            assertThatThrownBy(() -> s.join(bad)).isInstanceOf(SimThreadFailedException.class);
            assertThat(s.now()).isEqualTo(10_003);
        }
    }

    @Test
    void joinOfItselfOrOfAnotherSchedulersThreadIsRefused() {
        try (SimScheduler s = Sims.attached(5)) {
            assertThatThrownBy(() -> s.join(s.current())).isInstanceOf(IllegalArgumentException.class);
        }
        try (SimScheduler a = Sims.attached(1)) {
            SimThread mainOfA = a.current();
            a.detachCurrent();
            try (SimScheduler b = Sims.attached(2)) {
                assertThatThrownBy(() -> b.join(mainOfA)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("another scheduler");
            }
        }
    }

    @Test
    void detachHandsTheBatonToTheRemainingThreads() throws InterruptedException {
        SimScheduler s = Sims.attached(9);
        List<String> log = new ArrayList<>();
        SimThread worker = s.spawn("worker", () -> {
            s.advance(100);
            s.yieldPoint();
            log.add("worker@" + s.now());
        });
        s.detachCurrent();
        worker.thread.join(10_000); // no longer simulated: this thread may wait for real
        assertThat(worker.isDone()).isTrue();
        s.close();
        assertThat(worker.failure()).isNull();
        assertThat(log).containsExactly("worker@100");
    }

    @Test
    void policyRandomIsSeededAndIndependentOfTieBreaks() {
        long a;
        long b;
        try (SimScheduler s = Sims.attached(42)) {
            s.spawn("x", () -> {});
            s.yieldPoint(); // a tie-break between main and x at time 0
            a = s.random().nextLong();
        }
        try (SimScheduler s = Sims.attached(42)) {
            b = s.random().nextLong();
        }
        try (SimScheduler s = Sims.attached(43)) {
            assertThat(s.random().nextLong()).isNotEqualTo(a);
        }
        assertThat(a).isEqualTo(b);
    }

    @Test
    void equalTimesAreOrderedByTheSeed() {
        java.util.Set<String> firsts = new java.util.TreeSet<>();
        for (long seed = 0; seed < 32; seed++) {
            String first = firstOfTwo(seed);
            assertThat(firstOfTwo(seed)).isEqualTo(first);
            firsts.add(first);
        }
        assertThat(firsts).containsExactly("a", "b");
    }

    private static String firstOfTwo(long seed) {
        try (SimScheduler s = Sims.attached(seed)) {
            List<String> order = new ArrayList<>();
            SimThread a = s.spawn("a", () -> order.add("a"));
            SimThread b = s.spawn("b", () -> order.add("b"));
            s.join(a);
            s.join(b);
            assertThat(order).hasSize(2);
            return order.get(0);
        }
    }
}
