// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/** A vCPU running the VM's guest program (struct kvm_vcpu). Run it from one thread at a time. */
public interface Vcpu {
    int id();

    /** vcpu_args_set(): the initial values of the program's argument registers, before the first run. */
    void setArgs(long... args);

    /**
     * KVM_RUN until the guest exits to the host (retrying when a signal merely interrupted it). A run longer
     * than the VM's run timeout kicks the vCPU out and throws {@link GuestTimeoutException}.
     */
    Exit run();

    /** get_ucall(): the ucall behind the last exit, or {@link Ucall#NONE}. */
    Ucall ucall();

    /** vcpu->run->mmio after the last exit, a KVM_EXIT_MMIO. */
    Exit.Mmio mmio();

    /**
     * memcpy(run->mmio.data, &value, 8): what the MMIO read of the last exit returns when the vCPU runs again
     * (the low {@code len} bytes).
     */
    void setMmioData(long value);

    /** vcpu->run->internal after the last exit, a KVM_EXIT_INTERNAL_ERROR. */
    Exit.Internal internalError();

    /**
     * vcpu_regs_get()'s RIP. On the simulator, which runs the IR itself, it is the index of the IR instruction
     * the vCPU is at.
     */
    long rip();

    /** The index in the program's instructions of the IR instruction whose code holds {@code rip}, or -1. */
    int insnIndexAt(long rip);

    /** Runs once and returns the ucall, failing the test on a guest assert or a non-ucall exit. */
    default Ucall runToUcall() {
        Exit exit = run();
        Ucall uc = ucall();
        if (uc.kind() == Ucall.Kind.NONE) {
            throw new TestAssertionFailure("Unexpected exit from vCPU " + id() + ": " + exit);
        }
        if (uc.kind() == Ucall.Kind.ABORT) {
            throw TestAssertionFailure.guestAssert(uc);
        }
        return uc;
    }
}
