// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.Sregs;
import dev.kvmharness.harness.x86.CompiledGuest;
import dev.kvmharness.mmu.SimKvmException;
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
import java.util.Arrays;

/**
 * A harness vCPU on the simulator: KVM_RUN runs the guest program in the reference {@link GuestInterpreter},
 * every load and store going through the simulated vCPU's TLB, page walks and EPT faults, until a ucall (an
 * I/O exit), a halt, or an exit KVM hands to userspace (MMIO, shutdown, internal error). Guest exceptions
 * (#DE, #GP, #PF) go through the simulated vCPU's IDT. Guest time is virtual: each instruction costs
 * {@link Cost#GUEST_INSN}. A run still going after the run timeout of virtual time fails the test instead of
 * hanging it; so does one that makes no progress at all (no instruction retired, the virtual clock still) for
 * the run timeout of wall time. A guest that is working is never judged by wall time, so the same seed gives
 * the same result on an idle or a loaded machine, and on a slow or a fast JVM.
 *
 * <p>A guest spinning on memory nobody writes repeats itself exactly: when a whole slice of instructions
 * stored nothing, cost nothing beyond its instructions (every access hit the TLB, no exit) and ended in the
 * state it started from, the next slices are identical until another thread acts. The vCPU then advances
 * its clock by whole slices to the next event instead of interpreting them ({@link #fastForward}); the run
 * is the same, only cheaper to simulate, so a C test's timed waits around a spinning guest take no real time.
 */
final class SimGuestVcpu implements Vcpu {
    /** Instructions between scheduling points: how far one vCPU runs ahead of the others. */
    private static final long SLICE = 512;
    /** The port the x86 compiler's ucalls write (kept identical so exits look the same). */
    private static final int UCALL_PORT = 0x1000;

    private static final String IO_DETAIL = String.format("KVM_EXIT_IO port=0x%x out size=4 count=1", UCALL_PORT);

    private final SimVm vm;
    private final SimVcpu vcpu;
    private final SimScheduler sched;
    private final GuestInterpreter interp;
    private final Duration runTimeout;
    private Ucall lastUcall = Ucall.NONE;
    /** An MMIO exit the guest is waiting on: the re-executed access completes with {@link #mmioData}. */
    private boolean mmioPending;
    private long mmioData;
    private Exit.Mmio lastMmio;
    private Exit.Internal lastInternal;
    /** The width and address of the access in progress, for the MMIO exit it may become. */
    private Width accessWidth = Width.QWORD;
    private long accessGva;
    /** Stores since the slice began (fast-forward needs a slice that wrote nothing). */
    private long stores;

    /**
     * Where the real backend loads the compiled program (the first data page of slot 0). RIP on the simulator is
     * this plus the x86 code offset of the next IR instruction, so a host that steps RIP past an instruction by
     * its encoded length lands where it would on /dev/kvm.
     */
    static final long CODE_GVA = 0x1000;

    /** The program as /dev/kvm would run it: where each IR instruction's code starts, for RIP. */
    private final CompiledGuest code;
    private final int[] insnOffsets;
    private Sregs sregs;
    private Exit lastExit;
    /** Virtual ns per guest instruction in the current slice: GUEST_INSN plus GUEST_INSN_SMP per other running vCPU. */
    private long insnNs;

    SimGuestVcpu(SimVm vm, SimVcpu vcpu, CompiledGuest code, long cr3, boolean la57, Duration runTimeout) {
        GuestProgram program = code.program();
        this.vm = vm;
        this.vcpu = vcpu;
        this.sched = vm.sched();
        this.runTimeout = runTimeout;
        // The guest's TSC is the virtual clock in ns (SimVm.tscKhz() = 1 GHz), counting the instructions of the
        // current slice that are not charged yet.
        this.interp = new GuestInterpreter(program, new Memory(), before -> sched.now() + before * insnNs);
        this.code = code;
        this.insnOffsets = code.insnOffsets();
        vcpu.setCr3(cr3);
        vcpu.setLa57(la57);
        // What the real backend's vcpu setup loads: PE|NE|PG, PAE|OSFXSR (|LA57), LME|LMA|NX.
        this.sregs = new Sregs(1L | 1L << 5 | 1L << 31, cr3, 1L << 5 | 1L << 9 | (la57 ? Sregs.CR4_LA57 : 0),
                1L << 8 | 1L << 10 | 1L << 11);
    }

    @Override
    public Exit lastExit() {
        return lastExit;
    }

    @Override
    public int tryRun() {
        try {
            run();
            return 0;
        } catch (SimKvmException e) {
            if (!e.call().equals("KVM_RUN")) {
                throw e;
            }
            return e.errno().value();
        }
    }

    @Override
    public Sregs sregs() {
        return sregs;
    }

    /** __set_sregs(): a CR0 or CR4 change sets mmu_reset_needed, so the vCPU's MMU context is reset. */
    @Override
    public void setSregs(Sregs s) {
        Sregs old = sregs;
        sregs = s;
        if (s.cr3() != old.cr3()) {
            vcpu.setCr3(s.cr3());
        }
        if (s.cr4() != old.cr4()) {
            vcpu.setLa57((s.cr4() & Sregs.CR4_LA57) != 0);
        }
        if (s.cr0() != old.cr0() || s.cr4() != old.cr4()) {
            vcpu.resetMmuContext();
        }
    }

    @Override
    public long rip() {
        return CODE_GVA + insnOffsets[interp.pc()];
    }

    /** Only instruction boundaries are valid: elsewhere the real CPU would decode garbage. */
    @Override
    public void setRip(long rip) {
        long off = rip - CODE_GVA;
        for (int i = 0; i < insnOffsets.length; i++) {
            if (insnOffsets[i] == off) {
                // Several IR pseudo-instructions (labels) can share an offset; the first is where execution resumes.
                interp.setPc(i);
                return;
            }
        }
        throw new IllegalArgumentException(String.format("RIP 0x%x is not an instruction boundary of %s", rip,
                interp.program().name()));
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

    @Override
    public void setMmioData(long data) {
        mmioData = data;
    }

    @Override
    public Exit.Mmio mmio() {
        return lastMmio;
    }

    @Override
    public Exit.Internal internalError() {
        return lastInternal;
    }

    /** RIP is the compiled code's address (see {@link #rip()}): the IR instruction whose code holds it. */
    @Override
    public int insnIndexAt(long rip) {
        long off = rip - CODE_GVA;
        return off < 0 || off > Integer.MAX_VALUE ? -1 : code.insnAt((int) off);
    }

    @Override
    public Exit run() {
        Exit e = run0();
        lastExit = e;
        return e;
    }

    private Exit run0() {
        long virtualDeadline = sched.now() + runTimeout.toNanos();
        // Wall time only measures how long nothing has happened: a hung model, never a slow one.
        long lastProgressWall = System.nanoTime();
        lastUcall = Ucall.NONE;
        // The ioctl is a scheduling point: a vCPU that exits to userspace after a few instructions every time
        // (MMIO on a deleted memslot) must not keep the other threads from running.
        sched.yieldPoint();
        vcpu.beginRun();
        vm.enterRun();
        long smpNs = sched.costs().ns(Cost.GUEST_INSN_SMP);
        try {
            long[] sliceStart = null;
            while (true) {
                long before = interp.steps();
                long clockBefore = sched.now();
                boolean pendingBefore = mmioPending;
                stores = 0;
                // Zero by default: then nothing extra is charged and a run is what it was before the cost existed.
                // the count at the slice's start prices the whole slice, for the charge and the guest's TSC alike
                long others = smpNs == 0 ? 0 : vm.otherVcpusInRun();
                long smpShare = smpNs * others;
                insnNs = sched.costs().ns(Cost.GUEST_INSN) + smpShare;
                GuestInterpreter.Step step = interp.run(SLICE);
                long executed = interp.steps() - before;
                sched.charge(Cost.GUEST_INSN, executed);
                if (smpShare > 0) {
                    sched.charge(Cost.GUEST_INSN_SMP, executed * others);
                }
                switch (step.kind()) {
                    case UCALL -> {
                        vcpu.ioExit();
                        lastUcall = Ucall.of(step.site(), step.values());
                        return new Exit(Exit.IO, "KVM_EXIT_IO", IO_DETAIL);
                    }
                    case HALT -> {
                        vcpu.endRun(GuestExit.Reason.SHUTDOWN);
                        return new Exit(Exit.HLT, "KVM_EXIT_HLT", "KVM_EXIT_HLT");
                    }
                    case OUT_OF_STEPS -> {
                        long[] now = interp.registers();
                        boolean pure = stores == 0 && !pendingBefore && !mmioPending
                                && sched.now() - clockBefore == executed * insnNs;
                        if (pure && sliceStart != null && interp.pc() == (int) sliceStart[0]
                                && Arrays.equals(now, 0, now.length, sliceStart, 1, sliceStart.length)) {
                            if (smpNs == 0) {
                                waitWhileSpinning(executed * insnNs, virtualDeadline);
                            } else {
                                // the slice's price changes with the number of vCPUs in KVM_RUN, which
                                // waiting would not notice
                                fastForward(executed * insnNs, virtualDeadline);
                            }
                        }
                        sliceStart = new long[now.length + 1];
                        sliceStart[0] = interp.pc();
                        System.arraycopy(now, 0, sliceStart, 1, now.length);
                        sched.yieldPoint();
                        if (sched.now() > virtualDeadline) {
                            vcpu.endRun(GuestExit.Reason.INTR);
                            throw new GuestTimeoutException(vcpu.id(), runTimeout, GuestTimeoutException.Limit.VIRTUAL);
                        }
                        long wall = System.nanoTime();
                        if (executed > 0 || sched.now() != clockBefore) {
                            lastProgressWall = wall;
                        } else if (wall - lastProgressWall > runTimeout.toNanos()) {
                            vcpu.endRun(GuestExit.Reason.INTR);
                            throw new GuestTimeoutException(vcpu.id(), runTimeout, GuestTimeoutException.Limit.NO_PROGRESS);
                        }
                    }
                }
            }
        } catch (GuestExit e) {
            vcpu.endRun(e.reason());
            return exitFor(e);
        } catch (SimKvmException e) {
            // KVM_RUN itself failed (e.g. -EFAULT from kvm_faultin_pfn()): the guest stays at the faulting instruction.
            vcpu.endRunWithError();
            throw e;
        } catch (GuestInterpreter.DivideByZeroException e) {
            GuestExit exit = vcpu.raise(SimVcpu.DE_VECTOR, e.getMessage());
            vcpu.endRun(exit.reason());
            return exitFor(exit);
        } catch (RuntimeException e) {
            // KVM_RUN failing outright (EFAULT from the host mm): leave KVM_RUN, and the ioctl throws.
            vcpu.endRun(GuestExit.Reason.INTR);
            throw e;
        } finally {
            vm.leaveRun();
        }
    }

    /**
     * The slice just run left the guest where it started, with nothing stored and nothing but instruction
     * cost: the same slice repeats until another thread acts, at {@link SimScheduler#nextEventNs()}. Advance
     * by the whole slices that take the clock there (or past the run timeout, if nothing else will happen).
     */
    private void fastForward(long sliceNs, long virtualDeadline) {
        if (sliceNs <= 0) {
            return;
        }
        long target = Math.min(sched.nextEventNs(), virtualDeadline + 1);
        long now = sched.now();
        if (target <= now) {
            return;
        }
        long slices = (target - now + sliceNs - 1) / sliceNs;
        sched.advance(slices * sliceNs);
    }

    /**
     * The slice just run left the guest where it started, with nothing stored and nothing but instruction
     * cost: it would repeat until a page it reads is written or freed, a request or kick reaches the vCPU, or
     * the run times out. Wait for that in the model ({@link SimVcpu#waitWhileSpinning}), then take the clock to
     * the start of the first slice that sees it, as if the guest had spun all along.
     */
    private void waitWhileSpinning(long sliceNs, long virtualDeadline) {
        if (sliceNs <= 0) {
            return;
        }
        long start = sched.now();
        vcpu.waitWhileSpinning(virtualDeadline == Long.MAX_VALUE ? virtualDeadline : virtualDeadline + 1);
        long waited = sched.now() - start;
        long slices = (waited + sliceNs - 1) / sliceNs;
        sched.advance(slices * sliceNs - waited);
    }

    private Exit exitFor(GuestExit e) {
        return switch (e.reason()) {
            case MMIO -> {
                mmioPending = true;
                long gpa = e.gpa() | (accessGva & 4095);
                lastMmio = new Exit.Mmio(gpa, accessWidth.bytes(), e.isWrite());
                // Concatenation, not String.format: a guest polling MMIO exits millions of times.
                yield new Exit(Exit.MMIO, "KVM_EXIT_MMIO", "KVM_EXIT_MMIO gpa=0x" + Long.toHexString(gpa) + " len="
                        + accessWidth.bytes() + (e.isWrite() ? " write" : " read"));
            }
            case SHUTDOWN -> new Exit(Exit.SHUTDOWN, "KVM_EXIT_SHUTDOWN", "KVM_EXIT_SHUTDOWN " + e.getMessage());
            case INTERNAL_ERROR -> {
                lastInternal = new Exit.Internal(e.suberror(), e.data());
                StringBuilder sb = new StringBuilder("KVM_EXIT_INTERNAL_ERROR suberror=").append(e.suberror());
                for (long d : e.data()) {
                    sb.append(String.format(" 0x%x", d));
                }
                yield new Exit(Exit.INTERNAL_ERROR, "KVM_EXIT_INTERNAL_ERROR", sb.append(": ").append(e.getMessage()).toString());
            }
            case INTR -> new Exit(10, "KVM_EXIT_INTR", "KVM_EXIT_INTR");
        };
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
            accessWidth = w;
            accessGva = gva;
            long hpa = vcpu.translate(gva, w.bytes(), false);
            return vm.kvm().phys().read(hpa >>> 12, (int) (hpa & 4095), w.bytes());
        }

        @Override
        public void write(Width w, long gva, long value) {
            stores++;
            if (mmioPending) {
                // The store already went to userspace as the MMIO exit; re-executing it completes it.
                mmioPending = false;
                return;
            }
            accessWidth = w;
            accessGva = gva;
            long hpa = vcpu.translate(gva, w.bytes(), true);
            vm.kvm().phys().write(hpa >>> 12, (int) (hpa & 4095), w.bytes(), value);
        }

        @Override
        public void setIdt(long base, int limit) {
            vcpu.setIdt(base, limit);
        }
    }
}
