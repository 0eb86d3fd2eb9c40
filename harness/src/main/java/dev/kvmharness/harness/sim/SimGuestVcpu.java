// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.GuestTimeoutException;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.guest.GuestInterpreter;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.InterpreterMemory;
import dev.kvmharness.harness.guest.Width;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;
import java.time.Duration;

/**
 * A harness vCPU on the simulator: KVM_RUN runs the guest program in the reference {@link GuestInterpreter},
 * every load and store going through the simulated vCPU's TLB, page walks and EPT faults, until a ucall (an
 * I/O exit), a halt, or an exit KVM hands to userspace (MMIO, shutdown). Guest time is virtual: each
 * instruction costs {@link Cost#GUEST_INSN}. A run still going after the run timeout, in virtual or in real
 * time, fails the test instead of hanging it.
 */
final class SimGuestVcpu implements Vcpu {
    /** Instructions between scheduling points: how far one vCPU runs ahead of the others. */
    private static final long SLICE = 512;
    /** The port the x86 compiler's ucalls write (kept identical so exits look the same). */
    private static final int UCALL_PORT = 0x1000;

    private final SimVm vm;
    private final SimVcpu vcpu;
    private final SimScheduler sched;
    private final GuestInterpreter interp;
    private final Duration runTimeout;
    private Ucall lastUcall = Ucall.NONE;
    /** An MMIO exit the guest is waiting on: the re-executed access completes with {@link #mmioData}. */
    private boolean mmioPending;
    private long mmioData;

    SimGuestVcpu(SimVm vm, SimVcpu vcpu, GuestProgram program, long cr3, Duration runTimeout) {
        this.vm = vm;
        this.vcpu = vcpu;
        this.sched = vm.sched();
        this.runTimeout = runTimeout;
        // The guest's TSC is the virtual clock in ns (SimVm.tscKhz() = 1 GHz), counting the instructions of the
        // current slice that are not charged yet.
        long insnNs = sched.costs().ns(Cost.GUEST_INSN);
        this.interp = new GuestInterpreter(program, new Memory(), before -> sched.now() + before * insnNs);
        vcpu.setCr3(cr3);
    }

    SimVcpu simVcpu() {
        return vcpu;
    }

    @Override
    public int id() {
        return vcpu.id();
    }

    @Override
    public void setArgs(long... args) {
        interp.setArgs(args);
    }

    /** What userspace writes into kvm_run->mmio.data for the pending MMIO read. */
    void setMmioData(long data) {
        mmioData = data;
    }

    @Override
    public Exit run() {
        long virtualDeadline = sched.now() + runTimeout.toNanos();
        long realDeadline = System.nanoTime() + runTimeout.toNanos();
        lastUcall = Ucall.NONE;
        vcpu.beginRun();
        try {
            while (true) {
                long before = interp.steps();
                GuestInterpreter.Step step = interp.run(SLICE);
                sched.charge(Cost.GUEST_INSN, interp.steps() - before);
                switch (step.kind()) {
                    case UCALL -> {
                        vcpu.ioExit();
                        lastUcall = Ucall.of(step.site(), step.values());
                        return new Exit(Exit.IO, "KVM_EXIT_IO", String.format("KVM_EXIT_IO port=0x%x out size=4 count=1", UCALL_PORT));
                    }
                    case HALT -> {
                        vcpu.endRun(GuestExit.Reason.SHUTDOWN);
                        return new Exit(Exit.HLT, "KVM_EXIT_HLT", "KVM_EXIT_HLT");
                    }
                    case OUT_OF_STEPS -> {
                        sched.yieldPoint();
                        if (sched.now() > virtualDeadline || System.nanoTime() > realDeadline) {
                            vcpu.endRun(GuestExit.Reason.INTR);
                            throw new GuestTimeoutException(vcpu.id(), runTimeout);
                        }
                    }
                }
            }
        } catch (GuestExit e) {
            vcpu.endRun(e.reason());
            return switch (e.reason()) {
                case MMIO -> {
                    mmioPending = true;
                    yield new Exit(Exit.MMIO, "KVM_EXIT_MMIO",
                            String.format("KVM_EXIT_MMIO gpa=0x%x len=8 %s", e.gpa(), e.isWrite() ? "write" : "read"));
                }
                case SHUTDOWN -> new Exit(Exit.SHUTDOWN, "KVM_EXIT_SHUTDOWN", "KVM_EXIT_SHUTDOWN " + e.getMessage());
                case INTERNAL_ERROR -> new Exit(Exit.INTERNAL_ERROR, "KVM_EXIT_INTERNAL_ERROR", "KVM_EXIT_INTERNAL_ERROR " + e.getMessage());
                case INTR -> new Exit(10, "KVM_EXIT_INTR", "KVM_EXIT_INTR");
            };
        } catch (GuestInterpreter.DivideByZeroException e) {
            vcpu.endRun(GuestExit.Reason.SHUTDOWN);
            return new Exit(Exit.SHUTDOWN, "KVM_EXIT_SHUTDOWN", "KVM_EXIT_SHUTDOWN #DE with no IDT: " + e.getMessage());
        }
    }

    @Override
    public Ucall ucall() {
        return lastUcall;
    }

    /** Guest memory as the interpreter sees it: gva through the vCPU's TLB/page walk/EPT to simulated host pages. */
    private final class Memory implements InterpreterMemory {
        @Override
        public long read(Width w, long gva) {
            if (mmioPending) {
                mmioPending = false;
                return mmioData;
            }
            long hpa = vcpu.translate(gva, w.bytes(), false);
            return vm.kvm().phys().read(hpa >>> 12, (int) (hpa & 4095), w.bytes());
        }

        @Override
        public void write(Width w, long gva, long value) {
            if (mmioPending) {
                // The store already went to userspace as the MMIO exit; re-executing it completes it.
                mmioPending = false;
                return;
            }
            long hpa = vcpu.translate(gva, w.bytes(), true);
            vm.kvm().phys().write(hpa >>> 12, (int) (hpa & 4095), w.bytes(), value);
        }
    }
}
