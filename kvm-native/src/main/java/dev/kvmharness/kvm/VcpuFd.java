// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import dev.kvmharness.kvm.bindings.Ioctl;
import dev.kvmharness.kvm.bindings.KvmCpuid2;
import dev.kvmharness.kvm.bindings.KvmRegs;
import dev.kvmharness.kvm.bindings.KvmRun;
import dev.kvmharness.kvm.bindings.KvmSregs;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.IoctlException;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Mapping;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import dev.kvmharness.sys.Syscalls;
import com.sun.jna.Memory;

/** A vCPU fd with its mmap()ed struct kvm_run (the "vCPU ioctls" of api.rst). */
public final class VcpuFd extends OwnedFd {
    private final int id;
    private final Mapping runMapping;
    private final KvmRun run;
    /** KVM_RUN calls hold the read side; close() takes the write side. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock inFlight = new java.util.concurrent.locks.ReentrantReadWriteLock();

    VcpuFd(VmFd vm, int fd, int id, int mmapSize) {
        super(fd, "vcpu " + id + " fd");
        this.id = id;
        Mapping m;
        try {
            m = Mapping.map(mmapSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
        } catch (RuntimeException e) {
            super.close();
            throw e;
        }
        this.runMapping = m;
        this.run = new KvmRun(m.pointer(0));
    }

    public int id() {
        return id;
    }

    /** struct kvm_run, read in place; valid until {@link #close()}. */
    public KvmRun kvmRun() {
        fd();
        return run;
    }

    /**
     * KVM_RUN. Returns true when KVM returned to userspace with an exit to handle, false when the call was
     * interrupted by a signal (EINTR: a kick, or immediate_exit was set). Any other failure throws.
     */
    public boolean run() {
        inFlight.readLock().lock();
        try {
            long r = Syscalls.get().ioctl(fd(), Ioctl.KVM_RUN.number(), 0L);
            if (r >= 0) {
                return true;
            }
            if (r == -Errno.EINTR.value()) {
                return false;
            }
            throw new IoctlException(Ioctl.KVM_RUN.name(), (int) -r);
        } finally {
            inFlight.readLock().unlock();
        }
    }

    public void getRegs(KvmRegs regs) {
        Sys.ioctl(fd(), Ioctl.KVM_GET_REGS.name(), Ioctl.KVM_GET_REGS.number(), regs.pointer());
    }

    public void setRegs(KvmRegs regs) {
        Sys.ioctl(fd(), Ioctl.KVM_SET_REGS.name(), Ioctl.KVM_SET_REGS.number(), regs.pointer());
    }

    public void getSregs(KvmSregs sregs) {
        Sys.ioctl(fd(), Ioctl.KVM_GET_SREGS.name(), Ioctl.KVM_GET_SREGS.number(), sregs.pointer());
    }

    public void setSregs(KvmSregs sregs) {
        Sys.ioctl(fd(), Ioctl.KVM_SET_SREGS.name(), Ioctl.KVM_SET_SREGS.number(), sregs.pointer());
    }

    public void setCpuid2(KvmCpuid2 cpuid) {
        Sys.ioctl(fd(), Ioctl.KVM_SET_CPUID2.name(), Ioctl.KVM_SET_CPUID2.number(), cpuid.pointer());
    }

    /** KVM_SET_MP_STATE (0 = KVM_MP_STATE_RUNNABLE). */
    public void setMpState(int state) {
        Memory m = new Memory(4);
        m.setInt(0, state);
        Sys.ioctl(fd(), Ioctl.KVM_SET_MP_STATE.name(), Ioctl.KVM_SET_MP_STATE.number(), m);
    }

    /** KVM_GET_STATS_FD for this vCPU. */
    public StatsFd statsFd() {
        return new StatsFd(Sys.ioctl(fd(), Ioctl.KVM_GET_STATS_FD.name(), Ioctl.KVM_GET_STATS_FD.number(), 0L),
                "vcpu " + id + " stats fd");
    }

    /**
     * Closes the fd and unmaps kvm_run. A KVM_RUN in flight on another thread is waited for, so its fd is never
     * recycled under it and kvm_run is not unmapped while it runs; kick it first if it may not exit.
     */
    @Override
    public void close() {
        inFlight.writeLock().lock();
        try {
            if (isClosed()) {
                return;
            }
            try {
                runMapping.close();
            } finally {
                super.close();
            }
        } finally {
            inFlight.writeLock().unlock();
        }
    }
}
