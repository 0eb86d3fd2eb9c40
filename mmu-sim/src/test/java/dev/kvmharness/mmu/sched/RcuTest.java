// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RcuTest {
    private static final long GP = Cost.RCU_GRACE_PERIOD.defaultNs();

    @Test
    void callbackWaitsForAReaderThatWasInsideAtCallRcu() {
        try (SimScheduler s = Sims.attached(1)) {
            Rcu rcu = s.rcu();
            WaitQueue q = s.newWaitQueue("go");
            boolean[] go = {false};
            long[] ranAt = {-1};
            SimThread reader = s.spawn("reader", () -> {
                rcu.readLock();
                q.await(() -> go[0]);
                rcu.readUnlock();
            });
            s.sleep(10); // the reader is inside its section
            rcu.callRcu(() -> ranAt[0] = s.now());
            s.sleep(3 * GP);
            assertThat(ranAt[0]).isEqualTo(-1);
            assertThat(rcu.pendingCallbacks()).isEqualTo(1);
            assertThat(rcu.completedGracePeriods()).isZero();

            long unlockAt = s.now();
            go[0] = true;
            q.wakeOne();
            s.join(reader); // the reader ends its section at unlockAt
            s.sleep(1);     // a scheduling point after the grace period ended
            assertThat(ranAt[0]).isGreaterThanOrEqualTo(unlockAt);
            assertThat(rcu.pendingCallbacks()).isZero();
            assertThat(rcu.completedGracePeriods()).isEqualTo(1);
        }
    }

    @Test
    void callbackRunsNoEarlierThanAGracePeriodAfterCallRcu() {
        try (SimScheduler s = Sims.attached(2)) {
            Rcu rcu = s.rcu();
            long[] ranAt = {-1};
            s.advance(1000);
            rcu.callRcu(() -> ranAt[0] = s.now());
            s.sleep(GP - 1);
            assertThat(ranAt[0]).isEqualTo(-1);
            s.sleep(1);
            assertThat(ranAt[0]).isEqualTo(1000 + GP);
        }
    }

    @Test
    void readersThatStartAfterCallRcuDoNotDelayIt() {
        try (SimScheduler s = Sims.attached(3)) {
            Rcu rcu = s.rcu();
            boolean[] ran = {false};
            rcu.callRcu(() -> ran[0] = true);
            SimThread late = s.spawn("late-reader", () -> {
                rcu.readLock();
                s.sleep(10 * GP);
                rcu.readUnlock();
            });
            s.sleep(GP + 1);
            assertThat(ran[0]).isTrue();
            s.join(late);
        }
    }

    @Test
    void callbackRunsInWhicheverThreadReachesASchedulingPoint() {
        try (SimScheduler s = Sims.attached(4)) {
            Rcu rcu = s.rcu();
            String[] ranIn = {null};
            rcu.callRcu(() -> ranIn[0] = s.current().name());
            SimThread other = s.spawn("other", () -> s.sleep(2 * GP));
            s.join(other);
            assertThat(ranIn[0]).isEqualTo("other");
        }
    }

    @Test
    void synchronizeRcuWaitsForPreexistingReadersAndAFullGracePeriod() {
        try (SimScheduler s = Sims.attached(5)) {
            Rcu rcu = s.rcu();
            s.advance(100);
            rcu.synchronizeRcu();
            assertThat(s.now()).isEqualTo(100 + GP);

            SimThread reader = s.spawn("reader", () -> {
                rcu.readLock();
                s.sleep(5 * GP);
                rcu.readUnlock();
            });
            s.sleep(1);
            long start = s.now();
            rcu.synchronizeRcu();
            assertThat(s.now()).isEqualTo(start - 1 + 5 * GP);
            assertThat(rcu.completedGracePeriods()).isEqualTo(2);
            s.join(reader);
        }
    }

    @Test
    void readSectionsNest() {
        try (SimScheduler s = Sims.attached(6)) {
            Rcu rcu = s.rcu();
            assertThat(rcu.inReadSection()).isFalse();
            rcu.readLock();
            rcu.readLock();
            rcu.readUnlock();
            assertThat(rcu.inReadSection()).isTrue();
            boolean[] ran = {false};
            SimThread caller = s.spawn("caller", () -> rcu.callRcu(() -> ran[0] = true));
            s.join(caller);
            s.sleep(2 * GP);
            assertThat(ran[0]).isFalse();
            rcu.readUnlock();
            assertThat(rcu.inReadSection()).isFalse();
            s.sleep(1);
            assertThat(ran[0]).isTrue();
            assertThatThrownBy(rcu::readUnlock).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void barrierRunsEveryPendingCallbackInOrder() {
        try (SimScheduler s = Sims.attached(7)) {
            Rcu rcu = s.rcu();
            List<Integer> order = new ArrayList<>();
            rcu.callRcu(() -> order.add(1));
            s.advance(GP / 2);
            rcu.callRcu(() -> order.add(2)); // during the first grace period: waits for the second
            rcu.callRcu(() -> order.add(3));
            rcu.barrier();
            assertThat(order).containsExactly(1, 2, 3);
            assertThat(rcu.pendingCallbacks()).isZero();
            assertThat(rcu.completedGracePeriods()).isEqualTo(2);
            assertThat(s.now()).isEqualTo(2 * GP);
            rcu.barrier(); // nothing pending: returns at once
            assertThat(s.now()).isEqualTo(2 * GP);
        }
    }

    @Test
    void callbacksMustNotBlockAndSynchronizeMustNotBeCalledInsideAReader() {
        try (SimScheduler s = Sims.attached(8)) {
            Rcu rcu = s.rcu();
            WaitQueue q = s.newWaitQueue("q");
            rcu.callRcu(() -> q.await(() -> false));
            assertThatThrownBy(rcu::barrier).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("inside an RCU callback");
            assertThat(rcu.pendingCallbacks()).isZero();

            rcu.readLock();
            assertThatThrownBy(rcu::synchronizeRcu).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("inside an RCU read section");
            rcu.readUnlock();
        }
    }

    @Test
    void threadEndingInsideAReadSectionFailsAndDoesNotStallGracePeriods() {
        try (SimScheduler s = Sims.attached(9)) {
            Rcu rcu = s.rcu();
            SimThread leaky = s.spawn("leaky", rcu::readLock);
            assertThatThrownBy(() -> s.join(leaky)).hasCauseInstanceOf(IllegalStateException.class)
                    .hasStackTraceContaining("ended inside an RCU read-side critical section");
            rcu.synchronizeRcu();
            assertThat(rcu.completedGracePeriods()).isEqualTo(1);
        }
    }

    @Test
    void synchronizeRcuBlockedOnAReaderThatNeverLeavesIsADeadlock() {
        try (SimScheduler s = Sims.attached(10)) {
            Rcu rcu = s.rcu();
            WaitQueue q = s.newWaitQueue("never");
            SimThread reader = s.spawn("reader", () -> {
                rcu.readLock();
                q.await(() -> false);
            });
            s.sleep(1);
            assertThatThrownBy(rcu::synchronizeRcu).isInstanceOf(SimDeadlockException.class)
                    .hasMessageContaining("'main' waits on wait queue 'rcu grace period'")
                    .hasMessageContaining("'reader' waits on wait queue 'never'");
            s.yieldPoint();
            assertThat(reader.failure()).isInstanceOf(SimDeadlockException.class);
        }
    }
}
