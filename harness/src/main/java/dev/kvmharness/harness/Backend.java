// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.util.Optional;

/**
 * Where VMs run: real KVM through /dev/kvm ({@code kvm}) or the TDP MMU simulator ({@code sim}). A port is
 * written against this interface and runs unchanged on either.
 */
public interface Backend {
    /** "kvm" or "sim". */
    String name();

    /**
     * One line for a run's output saying what produced it and what its times mean: wall-clock on /dev/kvm,
     * virtual (simulated) nanoseconds on the simulator.
     */
    default String describe() {
        return name();
    }

    /** Why this backend cannot run here (no /dev/kvm, ...), or empty. */
    Optional<String> unavailableReason();

    /** What the host offers: capability values and guest CPU properties the harness adapts to. */
    HostCaps caps();

    /** Creates a VM with slot 0, guest page tables and {@code shape.nrVcpus()} vCPUs running its program. */
    Vm createVm(VmShape shape);

    /** kvm_check_cap(): KVM_CHECK_EXTENSION on the system fd (0 for a capability the host does not know). */
    int checkCap(int cap);

    /**
     * vm_create_barebones_type(): KVM_CREATE_VM of {@code type} and nothing else: no memslot, no vCPU, no
     * guest page tables. For tests that drive the VM ioctls themselves.
     */
    BarebonesVm createBarebonesVm(int type);

    /**
     * Why idle page tracking ({@link HostPages}, /sys/kernel/mm/page_idle/bitmap opened O_RDWR) cannot be used
     * here: no CONFIG_IDLE_PAGE_TRACKING, or not root; empty where it can. The simulated host always has it.
     */
    Optional<String> pageIdleUnavailableReason();
}
