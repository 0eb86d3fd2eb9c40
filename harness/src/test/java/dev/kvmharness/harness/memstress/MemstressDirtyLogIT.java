// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.kvm.bindings.KvmApi;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * memstress's dirty-log helpers over every test memslot and the perf tests' iteration handshake, on both backends:
 * the memstress guest makes one pass over its memory per iteration, the host bumps the iteration, waits for every
 * vCPU, and harvests the log of each slot.
 */
class MemstressDirtyLogIT {
    private static final int VCPUS = 2;
    private static final long PER_VCPU = 1L << 20;
    private static final int SLOTS = 2;
    /** 2 vCPUs x 1 MiB of 4K pages in 2 slots. */
    private static final long PAGES_PER_SLOT = VCPUS * PER_VCPU / 4096 / SLOTS;

    private static Memstress create(Backend backend) {
        return Memstress.createVm(backend, GuestMode.PXXV48_4K, VCPUS, PER_VCPU, SLOTS, BackingSource.ANONYMOUS, true,
                new Memstress.Options(100, false, 1, Duration.ofSeconds(30)));
    }

    /** vcpu_worker() of dirty_log_perf_test, without its timing. */
    private static void worker(VcpuArgs a, VcpuIterations it) {
        while (!it.quitting()) {
            int current = it.iteration();
            Ucall uc = a.vcpu().runToUcall();
            assertThat(uc.kind()).isEqualTo(Ucall.Kind.SYNC);
            it.completed(a.vcpuIdx(), current);
            it.awaitNext(current);
        }
    }

    /**
     * Ends the vCPU loops and joins their threads whatever the test's outcome: a VM must not be closed under a
     * vCPU thread still in run() (on kvm its kvm_run page would be unmapped under it).
     */
    private static void stopAndJoin(Memstress ms, VcpuIterations it) {
        if (it != null) {
            it.quit();
        }
        try {
            ms.joinVcpuThreads();
        } catch (RuntimeException | Error e) {
            // the test reports its own failure; a vCPU's is in it or beside the point here
        }
    }

    private static long dirtyPages(long[][] bitmaps) {
        long n = 0;
        for (long[] bm : bitmaps) {
            for (long w : bm) {
                n += Long.bitCount(w);
            }
        }
        return n;
    }

    private static void assertAllCompleted(VcpuIterations it, int iteration) {
        for (int v = 0; v < VCPUS; v++) {
            assertThat(it.lastCompleted(v)).as("vCPU %d's last completed iteration after awaitCompleted(%d) returned", v, iteration)
                    .isEqualTo(iteration);
        }
    }

    @OnBackends
    void iterationsDirtyEveryPageOfEverySlotAndTheHelpersHarvestThem(Backend backend) {
        try (Memstress ms = create(backend)) {
            assertThat(ms.slots()).isEqualTo(SLOTS);
            assertThat(ms.pagesPerSlot()).isEqualTo(PAGES_PER_SLOT);
            long[][] bitmaps = ms.allocBitmaps();
            assertThat(bitmaps).hasDimensions(SLOTS, (int) (PAGES_PER_SLOT / 64));
            ms.vm().enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
                    KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KvmApi.KVM_DIRTY_LOG_INITIALLY_SET);
            VcpuIterations it = new VcpuIterations(ms.vm().host(), VCPUS);
            assertThat(it.lastCompleted(0)).isEqualTo(-1);
            ms.startVcpuThreads(null, it.worker(a -> worker(a, it)));
            try {
                assertThat(ms.stopVcpus()).isFalse();
                it.awaitCompleted(0);
                assertAllCompleted(it, 0);

                ms.enableDirtyLogging();
                for (int s = 0; s < SLOTS; s++) {
                    assertThat(ms.vm().region(Memstress.MEM_SLOT_INDEX + s).flags())
                            .as("memslot %d's flags after enableDirtyLogging()", Memstress.MEM_SLOT_INDEX + s).isEqualTo(KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
                }
                assertThat(it.next()).isEqualTo(1);
                it.awaitCompleted(1);
                assertAllCompleted(it, 1);
                ms.getDirtyLog(bitmaps);
                assertThat(dirtyPages(bitmaps)).as("getDirtyLog() of both slots with initially-set bitmaps: every page")
                        .isEqualTo(SLOTS * PAGES_PER_SLOT);
                ms.clearDirtyLog(bitmaps, ms.pagesPerSlot());
                ms.getDirtyLog(bitmaps);
                assertThat(dirtyPages(bitmaps)).as("getDirtyLog() right after clearDirtyLog() of every slot").isZero();

                ms.setWritePercent(0);
                it.next();
                it.awaitCompleted(2);
                ms.getDirtyLog(bitmaps);
                assertThat(dirtyPages(bitmaps)).as("an iteration of reads dirties nothing").isZero();

                ms.setWritePercent(100);
                it.next();
                it.awaitCompleted(3);
                assertAllCompleted(it, 3);
                ms.getDirtyLog(bitmaps);
                assertThat(dirtyPages(bitmaps)).as("an iteration of writes after clearDirtyLog() re-protected the pages: every page"
                        + " of both slots").isEqualTo(SLOTS * PAGES_PER_SLOT);

                ms.disableDirtyLogging();
                for (int s = 0; s < SLOTS; s++) {
                    assertThat(ms.vm().region(Memstress.MEM_SLOT_INDEX + s).flags())
                            .as("memslot %d's flags after disableDirtyLogging()", Memstress.MEM_SLOT_INDEX + s).isZero();
                }
                it.quit();
                ms.joinVcpuThreads();
                assertThat(ms.stopVcpus()).as("joinVcpuThreads() sets stop_vcpus").isTrue();
                assertThat(it.lastCompleted(1)).isEqualTo(3);
            } finally {
                stopAndJoin(ms, it);
            }
        }
    }

    /** With a negative iteration the vCPUs keep making passes without the host. */
    @OnBackends
    void aNegativeIterationLetsTheVcpusRunOn(Backend backend) {
        try (Memstress ms = create(backend)) {
            VcpuIterations it = new VcpuIterations(ms.vm().host(), VCPUS);
            AtomicIntegerArray passes = new AtomicIntegerArray(VCPUS);
            Host.SpinWait counted = ms.vm().host().newSpinWait("passes");
            ms.startVcpuThreads(null, it.worker(a -> {
                while (!it.quitting()) {
                    int current = it.iteration();
                    a.vcpu().runToUcall();
                    counted.publish(() -> passes.incrementAndGet(a.vcpuIdx()));
                    it.completed(a.vcpuIdx(), current);
                    it.awaitNext(current);
                }
            }));
            try {
                it.awaitCompleted(0);
                it.set(-1);
                counted.spinUntil(() -> passes.get(0) >= 3 && passes.get(1) >= 3);
                it.quit();
                ms.joinVcpuThreads();
                assertThat(it.lastCompleted(0)).isEqualTo(-1);
                assertThat(passes.get(0)).as("passes of vCPU 0 without the host bumping the iteration").isGreaterThanOrEqualTo(3);
            } finally {
                stopAndJoin(ms, it);
            }
        }
    }

    /** stop_vcpus: false while the threads run, set by the join, which a vCPU loop can watch. */
    @OnBackends
    void joinVcpuThreadsStopsALoopOnStopVcpus(Backend backend) {
        try (Memstress ms = create(backend)) {
            AtomicIntegerArray passes = new AtomicIntegerArray(VCPUS);
            Host.SpinWait counted = ms.vm().host().newSpinWait("passes");
            ms.startVcpuThreads(null, a -> {
                while (!ms.stopVcpus()) {
                    a.vcpu().runToUcall();
                    counted.publish(() -> passes.incrementAndGet(a.vcpuIdx()));
                }
            });
            try {
                counted.spinUntil(() -> passes.get(0) >= 1 && passes.get(1) >= 1);
                ms.joinVcpuThreads();
                assertThat(ms.stopVcpus()).isTrue();
            } finally {
                stopAndJoin(ms, null);
            }
        }
    }

    /** A vCPU thread that fails ends the host's wait with its failure instead of leaving the host spinning. */
    @OnBackends
    void aFailingVcpuEndsTheHostsWait(Backend backend) {
        try (Memstress ms = create(backend)) {
            VcpuIterations it = new VcpuIterations(ms.vm().host(), VCPUS);
            ms.startVcpuThreads(null, it.worker(a -> {
                if (a.vcpuIdx() == 1) {
                    throw new TestAssertionFailure("vCPU 1 gives up");
                }
                worker(a, it);
            }));
            try {
                assertThatThrownBy(() -> it.awaitCompleted(0)).as("awaitCompleted(0) while vCPU 1's thread failed")
                        .hasMessageContaining("vCPU 1 gives up");
                assertThat(it.quitting()).as("the failure made the host quit").isTrue();
                assertThatThrownBy(ms::joinVcpuThreads).hasMessageContaining("vCPU 1 gives up");
            } finally {
                stopAndJoin(ms, it);
            }
        }
    }
}
