// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.sched.SimLivelockException;
import dev.kvmharness.mmu.sched.SimThread;
import dev.kvmharness.mmu.sched.SimThreadFailedException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A page fault that returns RET_PF_RETRY without end keeps its vCPU runnable and its clock moving, so the
 * scheduler sees no deadlock and virtual time no timeout: without a bound the test running it would hang. The
 * vCPU counts the faults of one guest access that find the same invalidation and memslot state and, past
 * {@link SimConfig#livelockFaults()} with no other thread left to act (or {@link SimConfig#LIVELOCK_BACKSTOP}
 * times as many while others still run), fails with {@link SimLivelockException} naming the vCPU, the gfn, what
 * the faults returned and why, the thread, its virtual time and the seed. The model states here retry forever
 * as a model bug would leave them: an invalidation that never ends, and roots invalidated without the request
 * that makes vCPUs drop them. Retries that another thread's work ends, however many, are no livelock.
 *
 * <p>Each test runs on a thread of its own with a timeout: should the bound ever stop working, the looping vCPU
 * ignores interrupts (virtual time knows none), and only a test abandoned on another thread fails instead of
 * hanging the suite.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultLivelockTest {
    private static final long SEED = 0x11fe;
    private static final long GPA = MmuWorld.SLOT2_GPA + 5 * 4096L;
    private static final long GFN = GPA >>> 12;

    /** kvm_mmu_invalidate_begin() and _range_add() for {@code [start, end)} with no _end() to follow. */
    private static void leaveInvalidationOpen(MmuWorld w, long start, long end) {
        w.kvm.mmuLock().writeLock();
        w.kvm.invalidate().begin();
        w.kvm.invalidate().rangeAdd(start, end);
        w.kvm.mmuLock().writeUnlock();
    }

    /** vCPU 0 writes GPA on a thread of its own; what its KVM_RUN failed with. */
    private static SimLivelockException livelockOfWrite(MmuWorld w) {
        SimThread vcpu = w.sched.spawn("vcpu0", () -> w.access(0, GPA, true, false));
        SimThreadFailedException failed = catchThrowableOfType(SimThreadFailedException.class, () -> w.sched.join(vcpu));
        assertThat(failed).as("the vCPU's KVM_RUN ends with an exception instead of retrying forever").isNotNull();
        assertThat(failed.getCause()).isInstanceOf(SimLivelockException.class);
        return (SimLivelockException) failed.getCause();
    }

    /** With the default bound, as every other test and benchmark runs. */
    @Test
    void anInvalidationThatNeverEndsIsALivelockReportedWithSeedThreadAndGfn() {
        SimLivelockException e;
        try (MmuWorld w = new MmuWorld(SEED, SimConfig.defaults(), 1)) {
            w.access(0, MmuWorld.SLOT2_GPA, false, false);
            leaveInvalidationOpen(w, GFN, GFN + 1);
            e = livelockOfWrite(w);
        }
        assertThat(e.seed()).isEqualTo(SEED);
        assertThat(e.threadName()).isEqualTo("vcpu0");
        assertThat(e.getMessage())
                .startsWith("livelock in the simulation, seed " + SEED + " (0x11fe): thread 'vcpu0' at " + e.virtualNs() + " ns: ")
                .contains(String.format("vCPU 0 took the page fault at gfn 0x%x (write) %d times in a row in one guest"
                        + " access without completing it, while mmu_invalidate_seq, mmu_invalidate_in_progress and the"
                        + " memslots stayed the same and no other thread was left to change them: ", GFN,
                        SimConfig.DEFAULT_LIVELOCK_FAULTS))
                .contains("RET_PF_RETRY each time, the last from mmu_invalidate_retry_gfn_unsafe() before kvm_faultin_pfn()")
                .contains(String.format("mmu_invalidate_in_progress 1, range [0x%x, 0x%x)", GFN, GFN + 1))
                .contains("vCPU 0 in OUTSIDE_GUEST_MODE");
        // each try costs an exit, the fault and an entry: the vCPU's clock ran on the whole time
        assertThat(e.virtualNs()).isGreaterThan(SimConfig.DEFAULT_LIVELOCK_FAULTS * 1000L);
    }

    /** The bound counts faults, never wall time: the same seed fails at the same virtual time with the same words. */
    @Test
    void theReportIsTheSameForTheSameSeed() {
        String[] messages = new String[2];
        for (int i = 0; i < 2; i++) {
            try (MmuWorld w = new MmuWorld(SEED, SimConfig.defaults().withLivelockFaults(5_000), 2)) {
                w.access(0, MmuWorld.SLOT2_GPA, false, false);
                leaveInvalidationOpen(w, GFN - 3, GFN + 3);
                // another vCPU works meanwhile, so the livelocked one hands the baton back and forth
                SimThread other = w.sched.spawn("vcpu1", () -> {
                    for (int p = 0; p < 64; p++) {
                        w.access(1, MmuWorld.SLOT1_GPA + p * 4096L, true, false);
                    }
                });
                messages[i] = livelockOfWrite(w).getMessage();
                w.sched.join(other);
            }
        }
        assertThat(messages[0]).contains("5000 times").isEqualTo(messages[1]);
    }

    /**
     * kvm_mmu_zap_all_fast() without its KVM_REQ_MMU_FREE_OBSOLETE_ROOTS (a request loop that missed the vCPU):
     * the vCPU keeps its invalid root, and since "Retry page fault if root is invalidated by memslot update"
     * every fault on it returns RET_PF_RETRY until the vCPU reloads, which nothing asks it to.
     */
    @Test
    void aVcpuTheObsoleteRootsRequestMissedRetriesForeverAndIsReported() {
        try (MmuWorld w = new MmuWorld(SEED, SimConfig.defaults().withLivelockFaults(1_000), 1)) {
            w.access(0, MmuWorld.SLOT2_GPA, false, false);
            w.kvm.mmuLock().writeLock();
            w.kvm.tdpMmu().invalidateAllRoots();
            w.kvm.mmuLock().writeUnlock();
            assertThat(livelockOfWrite(w).getMessage())
                    .contains(String.format("vCPU 0 took the page fault at gfn 0x%x (write) 1000 times in a row", GFN))
                    .contains("RET_PF_RETRY each time, the last from is_page_fault_stale(): the vCPU's root is invalid;")
                    .contains(" invalid] (invalid), requests 0x0");
        }
    }

    /**
     * A fault that retries while another thread could still end it is no livelock, however long it takes: an
     * invalidation held for 20 ms of virtual time (a big mprotect(), say) makes the write fault more often than
     * the bound, and the access completes once it ends.
     */
    @Test
    void aLongButFiniteRetryCompletesUnderTheDefaultBound() {
        try (MmuWorld w = new MmuWorld(SEED, SimConfig.defaults(), 1)) {
            w.access(0, MmuWorld.SLOT2_GPA, false, false);
            leaveInvalidationOpen(w, GFN, GFN + 1);
            GuestExit.Reason[] exit = new GuestExit.Reason[1];
            SimThread vcpu = w.sched.spawn("vcpu0", () -> exit[0] = w.access(0, GPA, true, false));
            w.sched.sleep(Duration.ofMillis(20).toNanos());
            w.kvm.mmuLock().writeLock();
            w.kvm.invalidate().end();
            w.kvm.mmuLock().writeUnlock();
            w.sched.join(vcpu);
            assertThat(exit[0]).isEqualTo(GuestExit.Reason.INTR);
            assertThat(w.vcpus.get(0).stats().pfTaken).as("faults taken while the invalidation was open")
                    .isGreaterThan(SimConfig.DEFAULT_LIVELOCK_FAULTS);
        }
    }

    /**
     * A livelock while another thread runs on (here the test's thread polls every millisecond for the vCPU to
     * finish, as the selftests' main threads wait for their vCPUs) still ends, at the backstop bound.
     */
    @Test
    void aFaultRetryingForeverNextToAPollingThreadFailsAtTheBackstop() {
        int bound = 10;
        try (MmuWorld w = new MmuWorld(SEED, SimConfig.defaults().withLivelockFaults(bound), 1)) {
            w.access(0, MmuWorld.SLOT2_GPA, false, false);
            leaveInvalidationOpen(w, GFN, GFN + 1);
            SimThread vcpu = w.sched.spawn("vcpu0", () -> w.access(0, GPA, true, false));
            while (!vcpu.isDone()) {
                w.sched.sleep(1_000_000);
            }
            SimThreadFailedException failed = catchThrowableOfType(SimThreadFailedException.class, () -> w.sched.join(vcpu));
            assertThat(failed).isNotNull();
            assertThat(failed.getCause()).isInstanceOf(SimLivelockException.class)
                    .hasMessageContaining(String.format("(write) %d times in a row", bound * SimConfig.LIVELOCK_BACKSTOP))
                    .hasMessageContaining("stayed the same though other threads ran: RET_PF_RETRY each time");
        }
    }

    /**
     * mmu_notifier invalidations one after another over the faulting gfn (a host calling MADV_DONTNEED on it in a
     * loop) keep the fault retrying past the backstop bound in all, but each one ends and bumps
     * mmu_invalidate_seq: the world changes under the fault, which may yet succeed, so the count starts again and
     * the access completes once the host stops.
     */
    @Test
    void aStreamOfInvalidationsRestartsTheCount() {
        int bound = 2;
        try (MmuWorld w = new MmuWorld(SEED, SimConfig.defaults().withLivelockFaults(bound), 1)) {
            w.access(0, MmuWorld.SLOT2_GPA, false, false);
            leaveInvalidationOpen(w, GFN, GFN + 1);
            GuestExit.Reason[] exit = new GuestExit.Reason[1];
            SimThread vcpu = w.sched.spawn("vcpu0", () -> exit[0] = w.access(0, GPA, true, false));
            int windows = 8;
            for (int i = 0; i < windows; i++) {
                // each window shorter than the backstop's faults, all of them together longer
                w.sched.sleep(10_000_000);
                w.kvm.mmuLock().writeLock();
                w.kvm.invalidate().end();
                if (i < windows - 1) {
                    w.kvm.invalidate().begin();
                    w.kvm.invalidate().rangeAdd(GFN, GFN + 1);
                }
                w.kvm.mmuLock().writeUnlock();
            }
            w.sched.join(vcpu);
            assertThat(exit[0]).isEqualTo(GuestExit.Reason.INTR);
            assertThat(w.vcpus.get(0).stats().pfTaken).as("faults of the one access, in all")
                    .isGreaterThan(2L * bound * SimConfig.LIVELOCK_BACKSTOP);
        }
    }
}
