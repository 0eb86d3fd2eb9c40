// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * The control registers of struct kvm_sregs a test reads and writes (KVM_GET_SREGS / KVM_SET_SREGS); the
 * segment and descriptor-table state stays as the harness set it up.
 */
public record Sregs(long cr0, long cr3, long cr4, long efer) {
    /** X86_CR0_WP: supervisor writes honour read-only pages; a change resets the vCPU's MMU context. */
    public static final long CR0_WP = 1L << 16;
    /** X86_CR4_LA57: 5-level paging. */
    public static final long CR4_LA57 = 1L << 12;

    public Sregs withCr0(long v) {
        return new Sregs(v, cr3, cr4, efer);
    }
}
