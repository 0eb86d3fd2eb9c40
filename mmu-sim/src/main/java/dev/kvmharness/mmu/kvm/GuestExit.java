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

    /** kvm_run->internal.suberror: the emulator gave up (handle_emulation_failure()). */
    public static final int KVM_INTERNAL_ERROR_EMULATION = 1;
    /** kvm_run->internal.suberror: an event could not be delivered (kvm_prepare_event_vectoring_exit()). */
    public static final int KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
    private static final long[] NO_DATA = new long[0];

    private final Reason reason;
    private final long gpa;
    private final boolean write;
    private final int suberror;
    private final long[] data;

    public GuestExit(Reason reason, long gpa, boolean write, String why) {
        this(reason, gpa, write, 0, NO_DATA, why);
    }

    private GuestExit(Reason reason, long gpa, boolean write, int suberror, long[] data, String why) {
        // No stack trace, and the message only when asked for: a guest spinning on a deleted memslot takes
        // millions of these.
        super(why, null, false, false);
        this.reason = reason;
        this.gpa = gpa;
        this.write = write;
        this.suberror = suberror;
        this.data = data.clone();
    }

    /** KVM_EXIT_INTERNAL_ERROR with kvm_run->internal.suberror and its data[] (ndata = data.length). */
    public static GuestExit internalError(int suberror, long[] data, String why) {
        return new GuestExit(Reason.INTERNAL_ERROR, 0, false, suberror, data, why);
    }

    @Override
    public String getMessage() {
        return reason + (reason == Reason.MMIO ? " at gpa 0x" + Long.toHexString(gpa) + (write ? " (write)" : " (read)") : "")
                + (reason == Reason.INTERNAL_ERROR ? " suberror " + suberror : "") + ": " + super.getMessage();
    }

    /** kvm_run->internal.suberror (internal errors only). */
    public int suberror() {
        return suberror;
    }

    /** kvm_run->internal.data[0..ndata) (internal errors only). */
    public long[] data() {
        return data.clone();
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
