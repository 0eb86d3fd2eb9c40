// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import dev.kvmharness.mmu.sched.Sims;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host's shared resources a demand fault goes through: mmap_lock, its count word, the zone lock, the bus. */
class HostContentionTest {
    private static final long K4 = 4096;
    private static final int THREADS = 32;
    private static final int PAGES = 64;
    /** Later than the last thread's creation. */
    private static final long START_NS = 10_000_000;

    /** THREADS threads each fault PAGES pages of their own part of one mapping; returns the last one's end time. */
    private static long faultConcurrently(SimScheduler sched, HostMm mm) {
        long base = mm.mmap((long) THREADS * PAGES * K4, Backing.ANON);
        List<SimThread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long mine = base + (long) t * PAGES * K4;
            threads.add(sched.spawn("vcpu" + t, () -> {
                sched.sleep(START_NS - sched.now()); // all start together, as vCPUs released by the test's go flag
                for (int p = 0; p < PAGES; p++) {
                    mm.faultIn(mine + p * K4, true);
                }
            }));
        }
        long end = 0;
        for (SimThread t : threads) {
            sched.join(t);
            end = Math.max(end, t.now());
        }
        return end;
    }

    @Test
    void concurrentFaultsQueueForTheMmapLockCountWord() {
        long transfer = CostModel.defaults().ns(Cost.CACHELINE_TRANSFER);
        long contended;
        long free;
        try (SimScheduler sched = Sims.attached(3); HostMm mm = new HostMm(sched, new PhysMem())) {
            contended = faultConcurrently(sched, mm);
            long faults = (long) THREADS * PAGES;
            assertThat(mm.mmapSemaphore().acquisitions()).as("one mmap_read_lock per populating GUP (+ the mmap)")
                    .isEqualTo(faults + 1);
            assertThat(mm.mmapLockLine().requests())
                    .as("down_read and up_read nearly always find the count on another CPU")
                    .isBetween(2 * faults * 9 / 10, 2 * faults + 1);
            assertThat(mm.mmapSemaphore().contendedAcquisitions()).as("readers never wait for readers").isZero();
            assertThat(mm.mmapLockLine().waitNs()).as("32 CPUs take turns on one cache line").isPositive();
            // the line serves one transfer at a time, so the run lasts at least as long as all the transfers
            assertThat(contended - START_NS).isGreaterThanOrEqualTo(mm.mmapLockLine().requests() * transfer);
        }
        try (SimScheduler sched = Sims.attached(3, CostModel.defaults().with(Cost.CACHELINE_TRANSFER, 0));
                HostMm mm = new HostMm(sched, new PhysMem())) {
            free = faultConcurrently(sched, mm);
            assertThat(mm.mmapLockLine().waitNs()).isZero();
        }
        assertThat(contended - START_NS).as("with free cache-line transfers the same faults end sooner")
                .isGreaterThan((free - START_NS) * 5 / 4);
    }

    @Test
    void perCpuListsRefillFromTheZoneInBatches() {
        try (SimScheduler sched = Sims.attached(3); HostMm mm = new HostMm(sched, new PhysMem())) {
            long a = mm.mmap(2 * PageAllocator.PCP_BATCH * K4, Backing.ANON);
            for (int p = 0; p < PageAllocator.PCP_BATCH + 1; p++) {
                mm.faultIn(a + p * K4, true);
            }
            assertThat(mm.zoneLock().acquisitions()).as("the 64th page needs a second batch").isEqualTo(2);
        }
    }

    @Test
    void faultsContendForTheZoneLockAndTheMemoryBus() {
        try (SimScheduler sched = Sims.attached(3); HostMm mm = new HostMm(sched, new PhysMem())) {
            faultConcurrently(sched, mm);
            assertThat(mm.zoneLock().acquisitions()).isEqualTo(2L * THREADS);
            assertThat(mm.zoneLock().contendedAcquisitions()).as("all CPUs refill their lists at once").isPositive();
            assertThat(mm.memoryBus().requests()).as("one clear_page per fault").isEqualTo((long) THREADS * PAGES);
            assertThat(mm.memoryBus().waitNs()).isPositive();
        }
    }

    @Test
    void aGupResolvedByUserfaultTakesMmapLockAgainAndUffdioCopyTakesItToo() {
        try (SimScheduler sched = Sims.attached(3); HostMm mm = new HostMm(sched, new PhysMem())) {
            long a = mm.mmap(K4, Backing.ANON);
            Userfaultfd uffd = mm.userfaultfd();
            uffd.register(a, K4, UffdMode.MISSING);
            long before = mm.mmapSemaphore().acquisitions();
            SimThread handler = sched.spawn("handler", () -> {
                UffdMsg m = uffd.read(Long.MAX_VALUE);
                uffd.copy(m.address(), K4, (byte) 1);
            });
            SimThread vcpu = sched.spawn("vcpu", () -> mm.faultIn(a, true));
            sched.join(vcpu);
            sched.join(handler);
            uffd.close();
            assertThat(mm.mmapSemaphore().acquisitions() - before)
                    .as("mmap_read_lock by GUP (dropped by handle_userfault), UFFDIO_COPY, and GUP's retry after VM_FAULT_RETRY")
                    .isEqualTo(3);
            assertThat(mm.gupNs()).isPositive();
            assertThat(mm.uffdFillNs()).isPositive();
        }
    }

    /**
     * Threads faulting the same pages at once: one populates each page, the others find it populated, even when
     * a refill of the per-CPU list (the zone lock, a scheduling point) lets them in while the first pays.
     */
    @Test
    void faultsOnTheSamePageWhileOthersRefillTheirListsPopulateItOnce() {
        try (SimScheduler sched = Sims.attached(3); HostMm mm = new HostMm(sched, new PhysMem())) {
            long shared = mm.mmap(PAGES * K4, Backing.ANON);
            long[][] pfns = new long[THREADS][PAGES];
            List<SimThread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int me = t;
                threads.add(sched.spawn("vcpu" + t, () -> {
                    sched.sleep(START_NS - sched.now());
                    for (int p = 0; p < PAGES; p++) {
                        pfns[me][p] = mm.faultIn(shared + p * K4, true).pfn();
                    }
                }));
            }
            for (SimThread t : threads) {
                sched.join(t);
            }
            for (int t = 1; t < THREADS; t++) {
                assertThat(pfns[t]).as("thread %d sees the pages thread 0 sees", t).containsExactly(pfns[0]);
            }
            assertThat(mm.faultsHandled()).as("each page populated once").isEqualTo(PAGES);
        }
    }

    @Test
    void munmapExcludesFaultsWithTheWriteLock() {
        try (SimScheduler sched = Sims.attached(3); HostMm mm = new HostMm(sched, new PhysMem())) {
            long a = mm.mmap(THREADS * K4, Backing.ANON);
            long b = mm.mmap(THREADS * K4, Backing.ANON);
            List<SimThread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                long page = b + t * K4;
                threads.add(sched.spawn("vcpu" + t, () -> mm.faultIn(page, true)));
            }
            threads.add(sched.spawn("vmm", () -> mm.munmap(a, THREADS * K4)));
            for (SimThread t : threads) {
                sched.join(t);
            }
            assertThat(mm.mmapSemaphore().contendedAcquisitions()).as("faults queue behind munmap or it behind them")
                    .isPositive();
        }
    }
}
