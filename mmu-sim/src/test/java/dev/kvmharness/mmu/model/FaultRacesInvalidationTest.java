// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.MmuInvalidate;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.notifier.KvmMmuNotifier;
import dev.kvmharness.mmu.oracle.Violation;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A fault racing an MMU-notifier invalidation: the vCPU resolves the host page (kvm_faultin_pfn) and, before it
 * takes mmu_lock, the host zaps and frees that page (MADV_DONTNEED). is_page_fault_stale() must see that
 * mmu_invalidate_seq moved and retry; a fault that maps the pfn it resolved anyway points the guest at a
 * freed page. The host's start is swept across the fault's whole duration, so some delay lands in the window
 * (the scheduling point of read_lock(mmu_lock) right after kvm_faultin_pfn).
 */
class FaultRacesInvalidationTest {
    private static final long GPA = MmuWorld.SLOT2_GPA + 5 * 4096L;

    private record Outcome(List<String> problems, long faults) {
    }

    private static Outcome race(Policy policy, long hostDelayNs) {
        SimConfig c = SimConfig.defaults().withPolicy(policy).withOracle(true);
        MmuWorld w = new MmuWorld(1, c, 1);
        List<String> problems = new ArrayList<>();
        try {
            // the vCPU has run before (its root is loaded) and the host page exists (the VMM wrote it), so
            // kvm_faultin_pfn finds it at once and the race is with what follows
            w.access(0, MmuWorld.SLOT2_GPA, false, false);
            w.mm.write(w.hva2 + (GPA - MmuWorld.SLOT2_GPA), 8, 0x1234);
            SimThread vcpu = w.sched.spawn("vcpu0", () -> {
                w.access(0, GPA, true, false);
                // the guest's next access, so a stale mapping is used, not just installed
                w.access(0, GPA, false, false);
            });
            SimThread host = w.sched.spawn("host", () -> {
                w.sched.sleep(hostDelayNs);
                w.mm.madviseDontneed(w.hva2 + (GPA - MmuWorld.SLOT2_GPA), 4096);
            });
            problems.addAll(w.joinAll(List.of(vcpu, host)));
            for (Violation v : w.oracle.violations()) {
                problems.add(v.what());
            }
            return new Outcome(problems, w.vcpus.get(0).stats().pfTaken);
        } finally {
            w.closeInto(problems);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"current", "legacy", "pre-tdp"})
    void aFaultThatLostTheRaceRetriesInsteadOfMappingTheFreedPage(String policy) {
        boolean sawRetry = false;
        for (long d = 0; d <= 6000; d += 25) {
            Outcome o = race(Policy.parse(policy), d);
            assertThat(o.problems())
                    .as("MADV_DONTNEED %d ns into a write fault: the fault must retry (is_page_fault_stale: mmu_invalidate_seq"
                            + " changed since kvm_faultin_pfn) instead of mapping the page the host just freed", d)
                    .isEmpty();
            // the first access faults once (2 with the root load's access); a retry shows up as one more
            sawRetry |= o.faults() > 2;
        }
        assertThat(sawRetry).as("some delay put the invalidation between kvm_faultin_pfn and mmu_lock, and the fault retried").isTrue();
    }

    /** Pages of slot 2 that nested invalidations A and B cover: they overlap, and GPA's page 5 is in neither. */
    private static final long A_FIRST_PAGE = 100;
    private static final long A_END_PAGE = 200;
    private static final long B_FIRST_PAGE = 150;
    private static final long B_END_PAGE = 250;

    private record NestedOutcome(List<String> problems, GuestExit.Reason exit, long faults) {
    }

    /**
     * invalidate_range_start of A, then of B, then a write fault at GPA, outside both; {@code endDelayNs} into the
     * fault, invalidate_range_end of A, while B stays open until the access is done.
     */
    private static NestedOutcome nestedRace(long endDelayNs) {
        SimConfig c = SimConfig.defaults().withOracle(true);
        MmuWorld w = new MmuWorld(1, c, 1);
        List<String> problems = new ArrayList<>();
        try {
            w.access(0, MmuWorld.SLOT2_GPA, false, false);
            w.mm.write(w.hva2 + (GPA - MmuWorld.SLOT2_GPA), 8, 0x1234);
            KvmMmuNotifier notifier = w.kvm.notifier();
            notifier.invalidateRangeStart(w.hva2 + A_FIRST_PAGE * 4096, w.hva2 + A_END_PAGE * 4096, true);
            notifier.invalidateRangeStart(w.hva2 + B_FIRST_PAGE * 4096, w.hva2 + B_END_PAGE * 4096, true);
            MmuInvalidate inv = w.kvm.invalidate();
            long gfn0 = MmuWorld.SLOT2_GPA >>> 12;
            assertThat(inv.inProgress()).isEqualTo(2);
            assertThat(inv.retryGfn(inv.seq(), gfn0 + A_FIRST_PAGE)).as("A's first gfn").isTrue();
            assertThat(inv.retryGfn(inv.seq(), gfn0 + B_END_PAGE - 1)).as("B's last gfn: the range widened to cover both")
                    .isTrue();
            assertThat(inv.retryGfn(inv.seq(), GPA >>> 12)).as("GPA is outside both").isFalse();
            long faultsBefore = w.vcpus.get(0).stats().pfTaken;
            GuestExit.Reason[] exit = new GuestExit.Reason[1];
            SimThread vcpu = w.sched.spawn("vcpu0", () -> exit[0] = w.access(0, GPA, true, false));
            SimThread host = w.sched.spawn("host", () -> {
                w.sched.sleep(endDelayNs);
                notifier.invalidateRangeEnd(w.hva2 + A_FIRST_PAGE * 4096, w.hva2 + A_END_PAGE * 4096);
            });
            problems.addAll(w.joinAll(List.of(vcpu, host)));
            notifier.invalidateRangeEnd(w.hva2 + B_FIRST_PAGE * 4096, w.hva2 + B_END_PAGE * 4096);
            for (Violation v : w.oracle.violations()) {
                problems.add(v.what());
            }
            return new NestedOutcome(problems, exit[0], w.vcpus.get(0).stats().pfTaken - faultsBefore);
        } finally {
            w.closeInto(problems);
        }
    }

    /**
     * kvm_mmu_invalidate_end() of the first of two nested invalidations bumps mmu_invalidate_seq although the
     * other is still open: a fault outside the still-open (widened) range that sampled the sequence before that
     * end and reaches is_page_fault_stale() after it must retry, and then completes while B is still open. The end
     * is swept across the fault, so some delay lands between its sample and mmu_lock.
     */
    @Test
    void aFaultOutsideTheStillOpenRangeRetriesWhenTheOtherNestedInvalidationEnds() {
        NestedOutcome alone = nestedRace(1_000_000_000L);
        assertThat(alone.problems()).isEmpty();
        assertThat(alone.faults()).as("with A still open throughout, the fault outside both ranges is taken once").isEqualTo(1);
        boolean sawRetry = false;
        for (long d = 0; d <= 6000; d += 25) {
            NestedOutcome o = nestedRace(d);
            assertThat(o.problems()).as("A ends %d ns into the fault", d).isEmpty();
            assertThat(o.exit()).as("A ends %d ns into the fault: the write completes while B is open", d)
                    .isEqualTo(GuestExit.Reason.INTR);
            sawRetry |= o.faults() > 1;
        }
        assertThat(sawRetry)
                .as("some end of A fell between the fault's mmu_invalidate_seq sample and mmu_lock: kvm_mmu_invalidate_end()"
                        + " must bump the sequence with B still open, and is_page_fault_stale() must make that fault retry")
                .isTrue();
    }
}
