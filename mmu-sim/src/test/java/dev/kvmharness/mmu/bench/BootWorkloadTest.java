// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.Policy;
import org.junit.jupiter.api.Test;

/** Workload (a) run small: the direction seed 000 reports, a clean oracle, and the same numbers for the same seed. */
class BootWorkloadTest {
    private static BootWorkload.Result boot(String policy) {
        return new BootWorkload(BootWorkload.Config.small(), Policy.parse(policy), 1).run();
    }

    private static long requestsOf(BootWorkload.Result r, String source) {
        BootWorkload.Flushes f = r.sources().get(source);
        return f == null ? 0 : f.requests();
    }

    @Test
    void currentIssuesFewerRemoteFlushRequestsThanLegacy() {
        BootWorkload.Result legacy = boot("legacy");
        BootWorkload.Result current = boot("current");
        assertThat(current.remoteTlbFlushRequests()).as("seed 000: requests drop after the overhaul")
                .isLessThan(legacy.remoteTlbFlushRequests());
        assertThat(current.remoteTlbFlush()).as("flushes that IPI a vCPU are requests too").isLessThanOrEqualTo(current.remoteTlbFlushRequests());
        // The drop comes from the fast zap of memslot deletes: legacy flushed per zapped top-level entry and per
        // freed table, current flushes nothing there (vCPUs flush locally on their new root).
        assertThat(requestsOf(legacy, "memslot delete")).isGreaterThan(10 * requestsOf(current, "memslot delete") + 10);
        assertThat(legacy.phases().get("firmware").requests()).as("the firmware's PAM/SMRAM/option ROM churn, legacy").isPositive();
        assertThat(current.phases().get("firmware").requests()).as("the same churn costs current no remote flush").isZero();
        assertThat(legacy.violations()).isZero();
        assertThat(current.violations()).isZero();
        assertThat(current.memslotIoctls()).isEqualTo(legacy.memslotIoctls());
        assertThat(current.resets()).isEqualTo(8 - 1 + 4 + 7 * 5);
    }

    /**
     * APs polling a mailbox in firmware (OVMF) instead of halted (SeaBIOS) are in guest mode while the BSP
     * changes memslots, yet legacy's extra requests still IPI nobody: the fast zap kicks them out first, and
     * they wait for mmu_lock to load a new root while the zapper flushes.
     */
    @Test
    void apsSpinningInFirmwareGetNoRemoteFlushFromItsMemslotChurn() {
        BootWorkload.Config spin = BootWorkload.Config.small().withApsSpinningInFirmware(true);
        BootWorkload.Result halted = boot("legacy");
        BootWorkload.Result spinning = new BootWorkload(spin, Policy.parse("legacy"), 1).run();
        assertThat(spinning.phases().get("firmware").requests()).as("the spinning APs' roots are zapped too")
                .isGreaterThan(halted.phases().get("firmware").requests());
        assertThat(spinning.phases().get("firmware").flushes()).as("remote flushes (IPIs) in the firmware phase").isZero();
        assertThat(spinning.violations()).isZero();
    }

    /**
     * With SMM, QEMU repeats every memslot change in address space 1. On legacy each change there is another
     * fast zap of every root, so the kernel phase's VGA BAR churn costs more requests; current's fast zap flushes
     * nothing in either space.
     */
    @Test
    void theSmmAddressSpaceRepeatsTheChurnAndLegacyPaysForItTwice() {
        BootWorkload.Config smm = BootWorkload.Config.small().withSmm(true);
        BootWorkload.Result legacy = new BootWorkload(smm, Policy.parse("legacy"), 1).run();
        BootWorkload.Result current = new BootWorkload(smm, Policy.parse("current"), 1).run();
        assertThat(legacy.memslotIoctls()).as("each change outside the VGA window is made in both spaces, plus SMRAM")
                .isGreaterThan(boot("legacy").memslotIoctls() * 3 / 2);
        long legacySmm = requestsOf(legacy, "memslot delete (SMM address space)") + requestsOf(legacy, "memslot move (SMM address space)");
        long currentSmm = requestsOf(current, "memslot delete (SMM address space)") + requestsOf(current, "memslot move (SMM address space)");
        assertThat(legacySmm).as("legacy: requests from changes in address space 1").isPositive();
        // what current books there is other threads' flushes made while the change was in progress
        assertThat(currentSmm).as("current: requests booked to changes in address space 1").isLessThan(legacySmm / 3);
        assertThat(legacy.violations()).isZero();
        assertThat(current.violations()).isZero();
    }

    /**
     * SMIs broadcast after boot (OVMF's variable services): every vCPU leaves its root for the SMM one and back.
     * On legacy the last vCPU to leave a root zaps it while the others run, in SMM or not: remote flushes that
     * current, which keeps roots until they are invalidated, does not make.
     */
    @Test
    void broadcastSmisCostLegacyRemoteFlushesAndCurrentNone() {
        BootWorkload.Config smis = BootWorkload.Config.small().withSmm(true).withRuntimeSmis(4);
        BootWorkload.Result legacy = new BootWorkload(smis, Policy.parse("legacy"), 1).run();
        BootWorkload.Result current = new BootWorkload(smis, Policy.parse("current"), 1).run();
        assertThat(legacy.smis()).as("relocation on 8 CPUs, ACPI enable, and broadcasts").isGreaterThan(9);
        BootWorkload.Flushes legacySmi = legacy.sources().get("SMI");
        assertThat(legacySmi.flushes()).as("legacy: remote flushes during SMIs").isPositive();
        assertThat(requestsOf(current, "SMI")).as("current: requests booked to SMIs (others' flushes meanwhile)")
                .isLessThan(legacySmi.requests() / 4);
        assertThat(legacy.violations()).isZero();
        assertThat(current.violations()).isZero();
    }

    @Test
    void theSameSeedBootsTheSameWay() {
        assertThat(boot("current")).isEqualTo(boot("current"));
    }
}
