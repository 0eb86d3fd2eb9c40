// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CloseTest {

    @Test
    void closeByTheAttachedThreadReleasesEveryBlockedThread() {
        SimScheduler s = Sims.attached(1);
        WaitQueue q = s.newWaitQueue("never");
        SimRwLock l = s.newRwLock("mmu_lock");
        l.writeLock();
        SimThread waiter = s.spawn("waiter", () -> q.await(() -> false));
        SimThread locker = s.spawn("locker", l::readLock);
        SimThread joiner = s.spawn("joiner", () -> s.join(waiter));
        SimThread timed = s.spawn("timed", () -> q.await(() -> false, Long.MAX_VALUE - 1));
        SimThread spinner = s.spawn("spinner", () -> {
            while (true) {
                s.advance(1);
                s.yieldPoint();
            }
        });
        s.sleep(100);
        assertThat(q.waiters()).isEqualTo(2);
        s.close();
        assertThat(s.isAttached()).isFalse();
        for (SimThread t : new SimThread[] {waiter, locker, joiner, timed, spinner}) {
            assertThat(t.isDone()).as(t.name()).isTrue();
            assertThat(t.failure()).as(t.name()).isInstanceOf(SimShutdownException.class)
                    .hasMessageContaining("'" + t.name() + "'");
        }
        assertThat(waiter.failure()).hasMessageContaining("waited on wait queue 'never'");
        assertThat(locker.failure()).hasMessageContaining("waited on rwlock 'mmu_lock' for read");
        s.close(); // idempotent
        assertThatThrownBy(() -> s.attachCurrent("again", 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void afterDetachBlockedThreadsWaitForCloseInsteadOfDeadlocking() {
        SimScheduler s = Sims.attached(2);
        WaitQueue q = s.newWaitQueue("uffd");
        SimThread reader = s.spawn("uffd-reader", () -> q.await(() -> false));
        s.sleep(10);
        s.detachCurrent();
        assertThat(reader.isDone()).isFalse();
        s.close(); // from a thread that is no longer simulated: wakes the idle simulation
        assertThat(reader.failure()).isInstanceOf(SimShutdownException.class);
    }

    @Test
    void closeFromAnotherRealThreadStopsARunningSimulation() throws InterruptedException {
        SimScheduler s = Sims.attached(3);
        SimThread spinner = s.spawn("spinner", () -> {
            while (true) {
                s.advance(10);
                s.yieldPoint();
            }
        });
        AtomicReference<Throwable> closeFailed = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            try {
                s.close();
            } catch (Throwable t) {
                closeFailed.set(t);
            }
        }, "closer");
        closer.start();
        // main keeps simulating until the close reaches it ...
        assertThatThrownBy(() -> {
            while (true) {
                s.sleep(10);
            }
        }).isInstanceOf(SimShutdownException.class);
        // ... and, as the attached thread, must leave for close() to complete: its own close() does that
        assertThat(s.isAttached()).isTrue();
        s.close();
        assertThat(s.isAttached()).isFalse();
        closer.join();
        assertThat(closeFailed.get()).isNull();
        assertThat(spinner.isDone()).isTrue();
        assertThat(spinner.failure()).isInstanceOf(SimShutdownException.class);
    }

    @Test
    void closeGivesUpOnAThreadStuckOnARealLockAndNamesIt() throws InterruptedException {
        SimScheduler s = Sims.attached(4);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        SimThread stuck = s.spawn("stuck", () -> {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS); // the misuse package-info warns about
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            s.yieldPoint(); // throws: the simulation is closing
        });
        s.detachCurrent(); // stuck gets the baton and blocks for real
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue(); // main is no longer simulated: may block
        assertThatThrownBy(() -> s.close(Duration.ofMillis(200)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'stuck' (running at 0 ns)");
        release.countDown();
        stuck.thread.join(10_000);
        assertThat(stuck.thread.isAlive()).isFalse();
        assertThat(stuck.failure()).isInstanceOf(SimShutdownException.class);
        s.close(); // already closed: returns
    }

    @Test
    void aThreadThatCatchesTheShutdownCannotSpawnOrBlockAgain() {
        SimScheduler s = Sims.attached(5);
        WaitQueue q = s.newWaitQueue("q");
        SimShutdownException[] caught = new SimShutdownException[2];
        SimThread t = s.spawn("stubborn", () -> {
            try {
                q.await(() -> false);
            } catch (SimShutdownException e) {
                caught[0] = e;
            }
            try {
                q.await(() -> true); // even a wait that would not block is a scheduling point
            } catch (SimShutdownException e) {
                caught[1] = e;
            }
            s.spawn("never", () -> {});
        });
        s.sleep(10);
        s.close();
        assertThat(caught[0]).hasMessageContaining("waited on wait queue 'q'");
        assertThat(caught[1]).hasMessageContaining("'stubborn' stopped at 0 ns");
        assertThat(t.failure()).isInstanceOf(SimShutdownException.class).isNotIn((Object[]) caught);
    }
}
