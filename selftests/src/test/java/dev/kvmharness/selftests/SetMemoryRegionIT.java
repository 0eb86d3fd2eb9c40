// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.junit.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * set_memory_region_test on /dev/kvm through the packaged CLI: every subtest, with the guest_memfd ones
 * skipped with the reason where the host has no KVM_X86_SW_PROTECTED_VM (this one: KVM_CAP_VM_TYPES = 0x1).
 */
@RequiresKvm
class SetMemoryRegionIT {
    @Test
    void passesWithTheCLines() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(300, "set_memory_region_test", "--backend", "kvm", "--stats");
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).containsPattern("^Random seed: 0x6b8b4567\n").containsSubsequence(
                "Testing KVM_RUN with zero added memory regions\n",
                "Testing MMIO during vectoring error handling\n",
                "Allowed number of memory slots: ",
                "Adding slots 0..",
                "Testing MOVE of in-use region, 10 loops, slot zap quirk enabled\n",
                "Testing DELETE of in-use region, 10 loops, slot zap quirk enabled\n");
        boolean swProtected = r.out().contains("Testing ADD of KVM_MEM_GUEST_MEMFD memory regions\n");
        if (!swProtected) {
            assertThat(r.out()).contains("Skipping tests for KVM_MEM_GUEST_MEMFD memory regions\n")
                    .containsPattern("\\(KVM_CAP_GUEST_MEMFD = \\d, KVM_CAP_VM_TYPES = 0x[0-9a-f]+: no ");
        }
        if (Files.isDirectory(Path.of("/sys/module/kvm_pvm"))) {
            // This host's KVM delivers guest events in software: no DELIVERY_EV exit, and the port says so.
            assertThat(r.out()).contains("MMIO during vectoring: KVM_EXIT_SHUTDOWN, not KVM_EXIT_INTERNAL_ERROR");
        }
        // This host's DISABLE_QUIRKS2 offers SLOT_ZAP_ALL, so the loops run a second time without the quirk.
        assertThat(r.out()).contains("Testing DELETE of in-use region, 10 loops, slot zap quirk disabled\n");
        assertThat(r.out()).containsPattern("mmio_exits\\s*[:=]?\\s*[1-9]");
    }
}
