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

    /**
     * _vcpu_run(): one KVM_RUN (retrying only when a signal merely interrupted it) that returns 0 on an exit to
     * userspace or the errno KVM_RUN failed with (e.g. EFAULT when the host mm refuses a guest write), instead
     * of throwing. The run timeout applies as in {@link #run()}.
     */
    int tryRun();

    /** Why the last successful KVM_RUN returned (kvm_run->exit_reason and its data), or null before the first. */
    Exit lastExit();

    /** KVM_GET_SREGS (the control registers). */
    Sregs sregs();

    /** KVM_SET_SREGS: a change of CR0 or CR4 resets the vCPU's MMU context, as __set_sregs() does. */
    void setSregs(Sregs sregs);

    /** RIP, as KVM_GET_REGS (or the kvm_run sync regs) report it. */
    long rip();

    /** Sets RIP for the next KVM_RUN (KVM_SET_REGS, or the sync regs with KVM_SYNC_X86_REGS dirty). */
    void setRip(long rip);

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
