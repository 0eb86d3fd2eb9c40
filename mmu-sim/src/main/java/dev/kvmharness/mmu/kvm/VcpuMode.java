// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

/** vcpu->mode: whether a request needs an IPI to reach the vCPU. */
public enum VcpuMode {
    OUTSIDE_GUEST_MODE, IN_GUEST_MODE, EXITING_GUEST_MODE
}
