// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

/**
 * A guest access KVM cannot complete inside the kernel: the vCPU exits to userspace with this reason (what
 * KVM_RUN returns in kvm_run->exit_reason). Thrown out of the access; the instruction is re-executed after
 * userspace handled it, as on hardware.
 */
public final class GuestExit extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The kvm_run exit reasons the simulator produces. */
    public enum Reason {
        /** KVM_EXIT_MMIO: no memslot (or a write to a read-only one). */
        MMIO,
        /** KVM_EXIT_SHUTDOWN: a guest fault with no handler (triple fault), e.g. its page tables are gone. */
        SHUTDOWN,
        /** KVM_EXIT_INTERNAL_ERROR: KVM could not make progress (no memslots at all, emulation failure). */
        INTERNAL_ERROR,
        /** KVM_EXIT_INTR: a signal or immediate_exit asked the vCPU to return (-EINTR). */
        INTR
    }

    private final Reason reason;
    private final long gpa;
    private final boolean write;

    public GuestExit(Reason reason, long gpa, boolean write, String why) {
        super(reason + (reason == Reason.MMIO ? String.format(" at gpa 0x%x (%s)", gpa, write ? "write" : "read") : "") + ": " + why,
                null, false, false);
        this.reason = reason;
        this.gpa = gpa;
        this.write = write;
    }

    public Reason reason() {
        return reason;
    }

    public long gpa() {
        return gpa;
    }

    public boolean isWrite() {
        return write;
    }
}
