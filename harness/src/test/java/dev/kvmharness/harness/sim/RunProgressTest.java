// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.RunProgress;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuThreads;
import org.junit.jupiter.api.Test;

/** What a terminal's progress line reads: a simulated memstress run's faulted pages and finished vCPUs. */
class RunProgressTest {

    @Test
    void aMemstressRunCountsItsFaultedPagesAndFinishedVcpus() {
        RunProgress.Snapshot before = RunProgress.snapshot();
        try (Memstress ms = Memstress.createVm(new SimBackend(SimOptions.defaults(3)), GuestMode.PXXV48_4K, 2, 1L << 20,
                1, BackingSource.ANONYMOUS, true, Memstress.Options.defaults(3))) {
            VcpuThreads t = VcpuThreads.start(ms.vm().host(), ms.vcpuArgs(), null, a -> a.vcpu().runToUcall());
            t.join();
            RunProgress.Snapshot after = RunProgress.snapshot();
            assertThat(after.vcpus() - before.vcpus()).as("vCPU threads started").isEqualTo(2);
            assertThat(after.vcpusDone() - before.vcpusDone()).as("vCPU threads finished").isEqualTo(2);
            assertThat(after.pages()).as("pages faulted in by the VM's vCPUs (2 x 1 MiB of 4K pages)")
                    .isGreaterThanOrEqualTo(Math.max(before.pages(), 0) + 2 * 256);
        }
        assertThat(RunProgress.snapshot().pages()).as("a closed VM's pages no longer count")
                .isLessThan(Math.max(before.pages(), 0) + 2 * 256);
    }
}
