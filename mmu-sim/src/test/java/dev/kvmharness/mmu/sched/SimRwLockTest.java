// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimRwLockTest {
    private static final long LOCK = Cost.LOCK.defaultNs();
    private static final long HANDOFF = Cost.LOCK_HANDOFF.defaultNs();

    @Test
    void uncontendedAcquisitionChargesLock() {
        try (SimScheduler s = Sims.attached(1)) {
            SimRwLock l = s.newRwLock("mmu_lock");
            l.writeLock();
            assertThat(l.isWriteLocked()).isTrue();
            assertThat(l.isWriteLockedByCurrent()).isTrue();
            l.writeUnlock();
            l.readLock();
            assertThat(l.isReadLockedByCurrent()).isTrue();
            assertThat(l.isWriteLocked()).isFalse();
            l.readUnlock();
            assertThat(s.now()).isEqualTo(2 * LOCK);
            assertThat(l.acquisitions()).isEqualTo(2);
            assertThat(l.contendedAcquisitions()).isZero();
            assertThat(l.waitHistogramLog2()[0]).isEqualTo(2);
        }
    }

    @Test
    void readersShare() {
        try (SimScheduler s = Sims.attached(2)) {
            SimRwLock l = s.newRwLock("mmu_lock");
            int[] maxReaders = {0};
            List<SimThread> ts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ts.add(s.spawn("r" + i, () -> {
                    l.readLock();
                    maxReaders[0] = Math.max(maxReaders[0], l.readers());
                    s.sleep(1000);
                    l.readUnlock();
                }));
            }
            for (SimThread t : ts) {
                s.join(t);
            }
            assertThat(maxReaders[0]).isEqualTo(3);
            assertThat(l.contendedAcquisitions()).isZero();
            assertThat(s.now()).isEqualTo(1000 + LOCK);
        }
    }

    @Test
    void waiterPaysTheHoldTimeInVirtualTime() {
        try (SimScheduler s = Sims.attached(3)) {
            SimRwLock l = s.newRwLock("mmu_lock");
            l.writeLock(); // main at LOCK
            long[] acquiredAt = {-1};
            SimThread reader = s.spawn("reader", () -> {
                s.advance(10);
                l.readLock();
                acquiredAt[0] = s.now();
                l.readUnlock();
            });
            s.sleep(5_000); // reader arrives at LOCK + 10 and queues
            assertThat(l.contended()).isTrue();
            long releasedAt = s.now();
            l.writeUnlock();
            assertThat(l.contended()).isFalse();
            s.join(reader);
            assertThat(acquiredAt[0]).isEqualTo(releasedAt + LOCK + HANDOFF);
            assertThat(l.contendedAcquisitions()).isEqualTo(1);
            long waited = releasedAt - (LOCK + 10);
            assertThat(l.waitNs()).isEqualTo(waited);
            assertThat(l.maxWaitNs()).isEqualTo(waited);
            long[] h = l.waitHistogramLog2();
            assertThat(h[64 - Long.numberOfLeadingZeros(waited)]).isEqualTo(1);
            assertThat(Arrays.stream(h).sum()).isEqualTo(l.acquisitions()).isEqualTo(2);
        }
    }

    @Test
    void waitingWriterBlocksNewReaders() {
        try (SimScheduler s = Sims.attached(4)) {
            SimRwLock l = s.newRwLock("mmu_lock");
            List<String> log = new ArrayList<>();
            l.readLock(); // main reads from LOCK on
            SimThread w = s.spawn("writer", () -> {
                s.advance(100);
                l.writeLock();
                log.add("writer@" + s.now());
                s.sleep(1000);
                l.writeUnlock();
            });
            SimThread r = s.spawn("reader", () -> {
                s.advance(200); // arrives after the writer queued: must not overtake it
                l.readLock();
                log.add("reader@" + s.now());
                l.readUnlock();
            });
            s.sleep(10_000);
            assertThat(log).isEmpty();
            l.readUnlock();
            s.join(w);
            s.join(r);
            long t = LOCK + 10_000;
            long writerAt = t + LOCK + HANDOFF;
            long readerAt = writerAt + 1000 + LOCK + HANDOFF;
            assertThat(log).containsExactly("writer@" + writerAt, "reader@" + readerAt);
        }
    }

    @Test
    void queuedReadersBehindAReaderHeadEnterTogether() {
        try (SimScheduler s = Sims.attached(5)) {
            SimRwLock l = s.newRwLock("mmu_lock");
            l.writeLock();
            int[] together = {0};
            List<SimThread> ts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                long arrive = 10L * (i + 1);
                ts.add(s.spawn("r" + i, () -> {
                    s.advance(arrive);
                    l.readLock();
                    together[0] = Math.max(together[0], l.readers());
                    s.sleep(50);
                    l.readUnlock();
                }));
            }
            s.sleep(1000);
            l.writeUnlock();
            for (SimThread t : ts) {
                s.join(t);
            }
            assertThat(together[0]).isEqualTo(3);
            assertThat(l.contendedAcquisitions()).isEqualTo(3);
        }
    }

    @Test
    void writersAcquireInArrivalOrder() {
        try (SimScheduler s = Sims.attached(6)) {
            SimRwLock l = s.newRwLock("slots_lock");
            List<String> order = new ArrayList<>();
            l.writeLock();
            List<SimThread> ts = new ArrayList<>();
            long[] arrivals = {30, 10, 20, 40};
            for (int i = 0; i < arrivals.length; i++) {
                long arrive = arrivals[i];
                String name = "w" + arrive;
                ts.add(s.spawn(name, () -> {
                    s.advance(arrive);
                    l.writeLock();
                    order.add(name);
                    s.sleep(5);
                    l.writeUnlock();
                }));
            }
            s.sleep(100);
            l.writeUnlock();
            for (SimThread t : ts) {
                s.join(t);
            }
            assertThat(order).containsExactly("w10", "w20", "w30", "w40");
        }
    }

    @Test
    void misuseIsRefused() {
        try (SimScheduler s = Sims.attached(7)) {
            SimRwLock l = s.newRwLock("mmu_lock");
            assertThatThrownBy(l::readUnlock).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("does not hold it for read");
            assertThatThrownBy(l::writeUnlock).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("does not hold it for write");
            l.readLock();
            assertThatThrownBy(l::writeLock).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not reentrant");
            assertThatThrownBy(l::readLock).isInstanceOf(IllegalStateException.class);
            l.readUnlock();
            l.writeLock();
            SimThread other = s.spawn("other", l::writeUnlock);
            assertThatThrownBy(() -> s.join(other)).hasCauseInstanceOf(IllegalStateException.class);
            assertThat(l.isWriteLockedByCurrent()).isTrue();
            l.writeUnlock();
        }
    }
}
