// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.memslot.MemslotLimits;

/**
 * KVM_CHECK_EXTENSION on the simulator: kvm_vm_ioctl_check_extension_generic() and x86's
 * kvm_vm_ioctl_check_extension() for the capabilities the model has, on the system fd ({@code vm} null) or
 * on a VM's. Unknown capabilities are 0, as KVM answers.
 */
final class SimCaps {
    static final int KVM_CAP_DISABLE_QUIRKS2 = KvmApi.KVM_CAP_DISABLE_QUIRKS2;
    /** KVM_MEMORY_ATTRIBUTE_PRIVATE. */
    static final int KVM_MEMORY_ATTRIBUTE_PRIVATE = 1 << 3;

    private SimCaps() {
    }

    /** kvm_check_cap() ({@code vmType} -1) or vm_check_cap() on a VM of {@code vmType}. */
    static int check(SimConfig config, int vmType, int cap) {
        boolean system = vmType < 0;
        boolean privateMem = system || vmType == SimKvm.KVM_X86_SW_PROTECTED_VM;
        return switch (cap) {
            case KvmApi.KVM_CAP_NR_MEMSLOTS -> MemslotLimits.X86_USER_MEM_SLOTS;
            case KvmApi.KVM_CAP_MAX_VCPUS, KvmApi.KVM_CAP_NR_VCPUS -> Math.min(SimBackend.MAX_VCPUS, config.nrVcpusMax());
            case KvmApi.KVM_CAP_USER_MEMORY, KvmApi.KVM_CAP_USER_MEMORY2, KvmApi.KVM_CAP_READONLY_MEM,
                 KvmApi.KVM_CAP_IMMEDIATE_EXIT, KvmApi.KVM_CAP_BINARY_STATS_FD, KvmApi.KVM_CAP_SYNC_MMU -> 1;
            // kvm_arch_has_private_mem(): asked without a VM, KVM answers for the types it could create.
            case KvmApi.KVM_CAP_GUEST_MEMFD -> privateMem ? 1 : 0;
            case KvmApi.KVM_CAP_MEMORY_ATTRIBUTES -> privateMem ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
            case KvmApi.KVM_CAP_VM_TYPES -> 1 << SimKvm.KVM_X86_DEFAULT_VM | 1 << SimKvm.KVM_X86_SW_PROTECTED_VM;
            case KvmApi.KVM_CAP_DISABLE_QUIRKS2 -> (int) SimKvm.KVM_X86_VALID_QUIRKS;
            // kvm_arch_nr_memslot_as_ids(): SMM gives a second address space, except to private-memory VMs.
            case KvmApi.KVM_CAP_MULTI_ADDRESS_SPACE -> vmType == SimKvm.KVM_X86_SW_PROTECTED_VM ? 1 : 2;
            case KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 -> (int) SimKvm.KVM_DIRTY_LOG_MANUAL_CAPS;
            default -> 0;
        };
    }

    /** What KVM_SET_USER_MEMORY_REGION[2] accepts on a VM of {@code type}. */
    static MemslotLimits limits(SimConfig config, int type) {
        MemslotLimits l = type == SimKvm.KVM_X86_SW_PROTECTED_VM ? MemslotLimits.x86SwProtected(config.physBits())
                : MemslotLimits.x86Default(config.physBits());
        // The simulator binds guest_memfd as the 7.2 cycle does: an overlap in the file is EEXIST.
        return l.withGmemOverlapEexist(true);
    }
}
