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

    @Test
    void theSameSeedBootsTheSameWay() {
        assertThat(boot("current")).isEqualTo(boot("current"));
    }
}
