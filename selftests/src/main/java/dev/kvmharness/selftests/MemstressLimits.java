// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.kvm.bindings.KvmApi;
import java.util.List;

/**
 * What the memstress ports check against the backend before any work (their validate(Backend)): the vCPU
 * count against {@code KVM_CAP_MAX_VCPUS}, as the C tests' TEST_ASSERT on max_vcpus, and the guest memory
 * against what the guest can address in every mode it will run: memstress_create_vm() needs guest_num_pages
 * below the highest gfn, mapped from the test region's base up in the lower half of the virtual address space.
 * A bad value is an IllegalArgumentException, which the CLI turns into a usage error (exit 2).
 */
final class MemstressLimits {
    private MemstressLimits() {
    }

    static void check(Backend backend, int nrVcpus, long perVcpuBytes, List<GuestMode> modes) {
        int maxVcpus = backend.checkCap(KvmApi.KVM_CAP_MAX_VCPUS);
        if (nrVcpus > maxVcpus) {
            throw new IllegalArgumentException("Invalid number of vcpus " + nrVcpus + ", must be between 1 and " + maxVcpus
                    + " (KVM_CAP_MAX_VCPUS of the " + backend.name() + " backend)");
        }
        long total = nrVcpus * perVcpuBytes;
        for (GuestMode mode : modes) {
            long physical = backend.caps().maxGfn(mode.pageSize()) * mode.pageSize();
            long virtual = (1L << (mode.vaBits() - 1)) - Memstress.GUEST_TEST_VIRT_MEM;
            if (total > Math.min(physical, virtual)) {
                throw new IllegalArgumentException("-v " + nrVcpus + " x -b " + Usage.size(perVcpuBytes)
                        + " is more guest memory than the " + backend.name() + " backend's guest can address: at most "
                        + Usage.size(Math.min(physical, virtual)) + " in all (guest mode " + mode.label() + ")");
            }
        }
    }
}
