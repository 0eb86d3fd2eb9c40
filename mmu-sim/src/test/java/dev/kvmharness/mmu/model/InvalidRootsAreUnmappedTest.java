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
 * kvm_mmu_zap_all_fast() invalidates every root and zaps them afterwards, under the read lock with yields (or
 * on a worker): until that zap reaches a gfn, an invalid root still maps it, and a vCPU that has not reloaded
 * may still walk it. An MMU-notifier invalidation in that window must zap the invalid roots too
 * (kvm_tdp_mmu_unmap_gfn_range walks every root, valid or not); one that skips them leaves the guest a path
 * to pages the host is freeing. The invalidation's start is swept across the zap.
 */
class InvalidRootsAreUnmappedTest {
    private static final int PAGES = 512;

    private static List<String> race(Policy policy, long hostDelayNs) {
        SimConfig c = SimConfig.defaults().withPolicy(policy).withYieldEvery(1).withOracle(true);
        MmuWorld w = new MmuWorld(1, c, 1);
        List<String> problems = new ArrayList<>();
        try {
            for (int i = 0; i < PAGES; i++) {
                w.access(0, MmuWorld.SLOT2_GPA + i * 4096L, true, false);
            }
            SimThread zapper = w.sched.spawn("zap_all_fast", w.kvm::zapAllFast);
            SimThread host = w.sched.spawn("host", () -> {
                w.sched.sleep(hostDelayNs);
                w.mm.madviseDontneed(w.hva2, PAGES * 4096L);
            });
            problems.addAll(w.joinAll(List.of(zapper, host)));
            for (Violation v : w.oracle.violations()) {
                problems.add(v.what());
            }
        } finally {
            w.closeInto(problems);
        }
        return problems;
    }

    @ParameterizedTest
    @ValueSource(strings = {"current", "current,+async_zap_invalidated_roots"})
    void anInvalidationDuringTheDeferredZapUnmapsTheInvalidRootsToo(String policy) {
        for (long d = 0; d <= 40_000; d += 500) {
            assertThat(race(Policy.parse(policy), d))
                    .as("MADV_DONTNEED %d ns into kvm_mmu_zap_all_fast: invalidate_range_start must zap the invalid roots the"
                            + " deferred zap has not reached yet (kvm_tdp_mmu_unmap_gfn_range covers invalid roots)", d)
                    .isEmpty();
        }
    }
}
