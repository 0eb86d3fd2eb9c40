// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.CostModel;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Cost#GUEST_INSN_SMP}, the vCPU count scaling calibrate fits: it slows a guest only while other vCPUs of its
 * VM are inside KVM_RUN, so one vCPU runs as before and two run slower, by about what the cost says.
 */
class VcpuScalingCostTest {
    @TempDir
    Path work;

    @Test
    void oneVcpuIsUnchanged() throws IOException {
        CostModel smp = CostModel.defaults().with(Cost.GUEST_INSN_SMP, 3);
        CalibrateCommand.Figures base = CalibrateCommand.sim("-b 4M", "current", CostModel.defaults(), work);
        CalibrateCommand.Figures with = CalibrateCommand.sim("-b 4M", "current", smp, work);
        assertThat(with).as("GUEST_INSN_SMP must not charge a vCPU that runs alone").isEqualTo(base);
    }

    /**
     * The defaults without the host's shared resources: where the two vCPUs' faults meet on mmap_lock's cache line,
     * the zone lock or the memory bus depends on their timing, which any cost change moves.
     */
    private static final CostModel UNSHARED = CostModel.defaults().with(Cost.CACHELINE_TRANSFER, 0)
            .with(Cost.ZONE_LOCK_PAGE, 0).with(Cost.MEM_BUS_4K, 0);

    @Test
    void twoVcpusPayPerInstructionWhileBothRun() throws IOException {
        CalibrateCommand.Figures base = CalibrateCommand.sim("-v 2 -b 4M", "current", UNSHARED, work);
        CalibrateCommand.Figures with = CalibrateCommand.sim("-v 2 -b 4M", "current", UNSHARED.with(Cost.GUEST_INSN_SMP, 3), work);
        // One more ns per instruction shows how many instructions the slower vCPU runs; with the other vCPU in
        // KVM_RUN all along, GUEST_INSN_SMP = 3 ns must add about three times that.
        CalibrateCommand.Figures insnPlusOne = CalibrateCommand.sim("-v 2 -b 4M", "current",
                UNSHARED.with(Cost.GUEST_INSN, UNSHARED.ns(Cost.GUEST_INSN) + 1), work);
        double perInsnNs = insnPlusOne.totalNs() - base.totalNs();
        assertThat(perInsnNs).as("instructions on the critical path").isGreaterThan(10_000);
        assertThat(with.totalNs() - base.totalNs()).as("total guest execution time added by GUEST_INSN_SMP = 3 ns, 2 vCPUs")
                .isBetween(2.5 * perInsnNs, 3.5 * perInsnNs);
        assertThat(with.p50Ns()).as("a first touch includes the instructions around the access").isGreaterThan(base.p50Ns());
    }
}
