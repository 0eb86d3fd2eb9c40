// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.oracle.Violation;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.List;
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
}
