// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

class DeadlockTest {

    @Test
    void lostWakeupIsReportedInEveryBlockedThreadWithSeedNamesAndWaits() {
        long seed = 0x5eed_1234L;
        try (SimScheduler s = Sims.attached(seed)) {
            WaitQueue q = s.newWaitQueue("uffd");
            SimThread vcpu = s.spawn("vcpu0", () -> {
                s.advance(700);
                q.await(() -> false);
            });
            SimDeadlockException e = catchThrowableOfType(SimDeadlockException.class, () -> s.join(vcpu));
            assertThat(e).isNotNull();
            assertThat(e.seed()).isEqualTo(seed);
            assertThat(e.getMessage())
                    .contains("seed " + seed + " (0x5eed1234)")
                    .contains("'main' waits on join of thread 'vcpu0' at 0 ns")
                    .contains("'vcpu0' waits on wait queue 'uffd' at 700 ns");
            // the vCPU thread got it too, from its own blocking call
            assertThat(vcpu.isDone()).isTrue();
            assertThat(vcpu.failure()).isInstanceOf(SimDeadlockException.class).hasMessage(e.getMessage());
            assertThat(q.waiters()).isZero();
        }
    }

    @Test
    void lockOrderInversionIsDetected() {
        try (SimScheduler s = Sims.attached(77)) {
            SimRwLock a = s.newRwLock("A");
            SimRwLock b = s.newRwLock("B");
            SimThread t1 = s.spawn("t1", () -> {
                a.writeLock();
                s.sleep(100);
                b.writeLock();
            });
            SimThread t2 = s.spawn("t2", () -> {
                b.writeLock();
                s.sleep(100);
                a.readLock();
            });
            assertThatThrownBy(() -> s.join(t1))
                    .isInstanceOf(SimDeadlockException.class)
                    .hasMessageContaining("seed 77")
                    .hasMessageContaining("'t1' waits on rwlock 'B' for write")
                    .hasMessageContaining("'t2' waits on rwlock 'A' for read")
                    .hasMessageContaining("'main' waits on join of thread 't1'");
            // both lock holders got the exception from their lock call and end when they next run
            assertThatThrownBy(() -> s.join(t1)).hasCauseInstanceOf(SimDeadlockException.class);
            assertThatThrownBy(() -> s.join(t2)).hasCauseInstanceOf(SimDeadlockException.class);
            assertThat(a.contended()).isFalse();
            assertThat(b.contended()).isFalse();
        }
    }

    @Test
    void aLoneThreadWaitingForNothingFailsAtOnce() {
        try (SimScheduler s = Sims.attached(1)) {
            WaitQueue q = s.newWaitQueue("never");
            assertThatThrownBy(() -> q.await(() -> false))
                    .isInstanceOf(SimDeadlockException.class)
                    .hasMessageContaining("'main' waits on wait queue 'never' at 0 ns");
            // the scheduler is still usable afterwards
            assertThat(q.await(() -> false, 10)).isFalse();
        }
    }

    @Test
    void timedWaitIsNotADeadlock() {
        try (SimScheduler s = Sims.attached(2)) {
            WaitQueue q = s.newWaitQueue("q");
            SimThread t = s.spawn("t", () -> q.await(() -> false, 50_000));
            s.join(t);
            assertThat(s.now()).isEqualTo(50_000);
            assertThat(t.failure()).isNull();
        }
    }

    @Test
    void lastRunnableThreadEndingWhileOthersWaitIsADeadlock() {
        try (SimScheduler s = Sims.attached(3)) {
            WaitQueue q = s.newWaitQueue("event");
            SimThread waiter = s.spawn("waiter", () -> q.await(() -> false));
            SimThread quitter = s.spawn("quitter", () -> s.sleep(10));
            s.join(quitter); // waiter blocks, quitter ends: main runs again
            assertThatThrownBy(() -> s.join(waiter))
                    .isInstanceOf(SimDeadlockException.class)
                    .hasMessageContaining("'waiter' waits on wait queue 'event'");
        }
    }
}
