// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.GuestTimeoutException;
import dev.kvmharness.harness.Sregs;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.guest.UcallSite;
import dev.kvmharness.harness.x86.CompiledGuest;
import dev.kvmharness.harness.x86.X86Compiler;
import dev.kvmharness.kvm.StatsFd;
import dev.kvmharness.kvm.VcpuFd;
import dev.kvmharness.kvm.VcpuKick;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.kvm.bindings.KvmCpuid2;
import dev.kvmharness.kvm.bindings.KvmRegs;
import dev.kvmharness.kvm.bindings.KvmRun;
import dev.kvmharness.kvm.bindings.KvmSregs;
import dev.kvmharness.sys.IoctlException;
import dev.kvmharness.sys.Sys;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * A vCPU on /dev/kvm: vm_arch_vcpu_add() at construction (CPUID, long-mode sregs, stack, entry point), KVM_RUN
 * bounded by a {@link RunWatchdog}, and get_ucall() decoding the harness's ucall port writes.
 */
final class KvmVcpu implements Vcpu, AutoCloseable {
    private final KvmVm vm;
    private final VcpuFd fd;
    /** The kernel tid of the thread in run(), 0 when none. */
    private volatile int runningTid;
    private final CompiledGuest code;
    private final long codeGpa;
    private final KvmRun run;
    private final KvmRegs regs = new KvmRegs();
    private final RunWatchdog watchdog;
    private final Duration timeout;
    private final StatsFd statsFd;
    private volatile Exit lastExit;

    KvmVcpu(KvmVm vm, VcpuFd fd, CompiledGuest code, long entry, long rsp, KvmCpuid2 cpuid,
            Consumer<KvmSregs> initSregs, boolean stats, Duration timeout) {
        this.vm = vm;
        this.fd = fd;
        this.code = code;
        this.codeGpa = entry;
        this.run = fd.kvmRun();
        this.watchdog = new RunWatchdog(run);
        this.timeout = timeout;
        StatsFd s = null;
        try {
            fd.setCpuid2(cpuid);
            KvmSregs sregs = new KvmSregs();
            fd.getSregs(sregs);
            initSregs.accept(sregs);
            fd.setSregs(sregs);
            fd.getRegs(regs);
            regs.set(KvmRegs.Field.RFLAGS, regs.get(KvmRegs.Field.RFLAGS) | X86VcpuSetup.RFLAGS_FIXED);
            regs.set(KvmRegs.Field.RSP, rsp);
            regs.set(KvmRegs.Field.RIP, entry);
            fd.setRegs(regs);
            fd.setMpState(0);
            if (stats) {
                s = fd.statsFd();
            }
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        this.statsFd = s;
    }

    @Override
    public int id() {
        return fd.id();
    }

    StatsFd statsFd() {
        return statsFd;
    }

    private static KvmRegs.Field field(Reg r, CompiledGuest code) {
        return KvmRegs.Field.valueOf(code.register(r).name());
    }

    @Override
    public void setArgs(long... args) {
        if (args.length > code.program().argCount()) {
            throw new IllegalArgumentException("program " + code.program().name() + " takes " + code.program().argCount()
                    + " argument(s), got " + args.length);
        }
        fd.getRegs(regs);
        for (int i = 0; i < args.length; i++) {
            regs.set(field(Reg.of(i), code), args[i]);
        }
        fd.setRegs(regs);
    }

    @Override
    @SuppressWarnings("Finally") // a fired deadline is why KVM_RUN ended: the timeout is the error to report
    public Exit run() {
        while (true) {
            failIfVmFailed();
            int tid = Sys.gettid();
            RunWatchdog.Deadline deadline = watchdog.arm(tid, timeout);
            boolean exited;
            runningTid = tid;
            try {
                exited = fd.run();
            } finally {
                runningTid = 0;
                if (deadline.disarm()) {
                    throw new GuestTimeoutException(id(), timeout);
                }
            }
            failIfVmFailed();
            if (exited) {
                int reason = run.exitReason();
                lastExit = new Exit(reason, KvmApi.exitReasonName(reason), run.describe());
                return lastExit;
            }
            // EINTR from a stray signal (or a late kick of an earlier run): retry, as _vcpu_run() does.
            run.immediateExit(false);
        }
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
        } catch (IoctlException e) {
            if (!e.call().equals("KVM_RUN")) {
                throw e;
            }
            return e.errno();
        }
    }

    @Override
    public Sregs sregs() {
        KvmSregs s = new KvmSregs();
        fd.getSregs(s);
        return new Sregs(s.cr0(), s.cr3(), s.cr4(), s.efer());
    }

    /** Reads the full struct first so the segments and descriptor tables go back unchanged. */
    @Override
    public void setSregs(Sregs sregs) {
        KvmSregs s = new KvmSregs();
        fd.getSregs(s);
        s.cr0(sregs.cr0());
        s.cr3(sregs.cr3());
        s.cr4(sregs.cr4());
        s.efer(sregs.efer());
        fd.setSregs(s);
    }

    @Override
    public long rip() {
        fd.getRegs(regs);
        return regs.get(KvmRegs.Field.RIP);
    }

    @Override
    public void setRip(long rip) {
        fd.getRegs(regs);
        regs.set(KvmRegs.Field.RIP, rip);
        fd.setRegs(regs);
    }

    private void failIfVmFailed() {
        Throwable f = vm.failure();
        if (f != null) {
            run.immediateExit(false);
            throw new TestAssertionFailure("vCPU " + id() + " stopped: a helper thread failed",
                    String.valueOf(f.getMessage()), f);
        }
    }

    /**
     * Makes a KVM_RUN in progress (or the next one) return: immediate_exit for a run about to enter the guest,
     * a signal for one inside it.
     */
    void kick() {
        run.immediateExit(true);
        int tid = runningTid;
        if (tid != 0) {
            VcpuKick.kick(tid);
        }
    }

    @Override
    public Ucall ucall() {
        if (run.exitReason() != KvmApi.KVM_EXIT_IO || run.ioPort() != X86Compiler.UCALL_PORT
                || run.ioDirection() != KvmApi.KVM_EXIT_IO_OUT) {
            return Ucall.NONE;
        }
        int site = (int) run.ioData();
        List<UcallSite> sites = code.program().ucallSites();
        if (site < 0 || site >= sites.size()) {
            return Ucall.NONE;
        }
        UcallSite s = sites.get(site);
        long[] values = new long[s.values().size()];
        if (values.length > 0) {
            fd.getRegs(regs);
            for (int i = 0; i < values.length; i++) {
                values[i] = regs.get(field(s.values().get(i), code));
            }
        }
        return Ucall.of(s, values);
    }

    @Override
    public Exit.Mmio mmio() {
        return new Exit.Mmio(run.mmioPhysAddr(), run.mmioLen(), run.mmioIsWrite());
    }

    @Override
    public void setMmioData(long value) {
        run.setMmioData(value);
    }

    @Override
    public Exit.Internal internalError() {
        return new Exit.Internal(run.internalSuberror(), run.internalData());
    }

    /** KVM_GET_SREGS as KVM lays it out, for tests of what the guest loaded (IDTR, CR0, ...). */
    KvmSregs kvmSregs() {
        KvmSregs s = new KvmSregs();
        fd.getSregs(s);
        return s;
    }

    /** The code is identity mapped, so RIP minus the code's gpa is the offset into it. */
    @Override
    public int insnIndexAt(long rip) {
        long off = rip - codeGpa;
        return off < 0 || off > Integer.MAX_VALUE ? -1 : code.insnAt((int) off);
    }

    @Override
    public void close() {
        try {
            if (statsFd != null) {
                statsFd.close();
            }
        } finally {
            fd.close();
        }
    }
}
