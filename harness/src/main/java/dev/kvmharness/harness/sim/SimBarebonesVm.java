// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.BarebonesVm;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.IoctlResult;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.MemFd;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.GuestMemfd;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.memslot.MemslotUpdate;
import dev.kvmharness.mmu.sched.SimScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * vm_create_barebones_type() on the simulator: a {@link SimKvm} of the requested type on its own scheduler
 * (the creating thread becomes its main thread), with fds from the backend's {@link SimFiles}. Memslot requests
 * go through {@link MemslotUpdate}, which fails them with KVM's errno; guest_memfd bindings resolve the fd
 * through the file table, so only this VM's guest_memfd files bind.
 */
final class SimBarebonesVm implements BarebonesVm {
    private final SimFiles files;
    private final SimScheduler sched;
    private final HostMm mm;
    private final SimKvm kvm;
    private final MemslotUpdate memslots;
    private final int kvmFd;
    private final int vmFd;
    private final List<Integer> fds = new ArrayList<>();
    private boolean closed;

    SimBarebonesVm(SimBackend backend, int type) {
        this.files = backend.files();
        SimOptions o = backend.options();
        this.sched = new SimScheduler(o.seed(), o.costs(), o.hostCpus());
        sched.attachCurrent(Thread.currentThread().getName(), 0);
        PhysMem phys = new PhysMem();
        this.mm = new HostMm(sched, phys);
        SimKvm k;
        try {
            k = new SimKvm(sched, mm, o.config(), type);
        } catch (RuntimeException e) {
            mm.close();
            sched.detachCurrent();
            sched.close();
            throw e;
        }
        this.kvm = k;
        this.memslots = new MemslotUpdate(kvm, SimCaps.limits(o.config(), type), this::guestMemfdSize);
        this.kvmFd = files.open("/dev/kvm");
        this.vmFd = files.open(kvm);
        fds.add(kvmFd);
        fds.add(vmFd);
    }

    /** kvm_gmem_bind()'s view of an fd: the size of a guest_memfd file created on this VM, else nothing. */
    private OptionalLong guestMemfdSize(int fd) {
        return files.get(fd) instanceof GuestMemfd g && g.ownedBy(kvm) ? OptionalLong.of(g.size()) : OptionalLong.empty();
    }

    @Override
    public int type() {
        return kvm.type();
    }

    @Override
    public int checkCap(int cap) {
        return SimCaps.check(kvm.config(), kvm.type(), cap);
    }

    private IoctlResult set(MemslotRequest req) {
        try {
            memslots.set(req);
            return IoctlResult.ok(req.ioctl());
        } catch (SimKvmException e) {
            return new IoctlResult(req.ioctl(), e.errno().value());
        }
    }

    @Override
    public IoctlResult setUserMemoryRegion(int slot, int flags, long gpa, long size, long hva) {
        return set(MemslotRequest.v1(slot, flags, gpa, size, hva));
    }

    @Override
    public IoctlResult setUserMemoryRegion2(int slot, int flags, long gpa, long size, long hva, int guestMemfd,
                                            long guestMemfdOffset) {
        return set(MemslotRequest.v2(slot, flags, gpa, size, hva, guestMemfdOffset, guestMemfd));
    }

    @Override
    public IoctlResult setNrMmuPages(long pages) {
        try {
            kvm.setNrMmuPages(pages);
            return IoctlResult.ok("KVM_SET_NR_MMU_PAGES");
        } catch (SimKvmException e) {
            return new IoctlResult("KVM_SET_NR_MMU_PAGES", e.errno().value());
        }
    }

    private HostFd track(Object file) {
        int fd = files.open(file);
        fds.add(fd);
        return new HostFd() {
            @Override
            public int fd() {
                return fd;
            }

            @Override
            public void close() {
                files.close(fd);
            }
        };
    }

    @Override
    public HostFd createGuestMemfd(long size, long flags) {
        return track(GuestMemfd.create(kvm, size, flags));
    }

    @Override
    public HostFd memfd(long size) {
        return track(new MemFd(kvm.phys(), "kvm_selftest", size, 4096));
    }

    @Override
    public int kvmFd() {
        return kvmFd;
    }

    @Override
    public int vmFd() {
        return vmFd;
    }

    /** MAP_NORESERVE changes nothing here: simulated host pages are only allocated when touched. */
    @Override
    public long mmapAnonymous(long size, boolean noReserve) {
        return mm.mmap(size, SimBacking.of(BackingSource.ANONYMOUS));
    }

    @Override
    public void munmap(long hva, long size) {
        mm.munmap(hva, size);
    }

    @Override
    public RawVcpu addRawVcpu(int id) {
        SimVcpu v = kvm.createVcpu();
        return new RawVcpu() {
            private Exit.Internal internal;

            @Override
            public Exit run() {
                GuestExit e = v.runFromReset();
                if (e.reason() == GuestExit.Reason.INTERNAL_ERROR) {
                    internal = new Exit.Internal(e.suberror(), e.data());
                    return new Exit(Exit.INTERNAL_ERROR, "KVM_EXIT_INTERNAL_ERROR",
                            "KVM_EXIT_INTERNAL_ERROR suberror=" + e.suberror() + ": " + e.getMessage());
                }
                return new Exit(Exit.SHUTDOWN, "KVM_EXIT_" + e.reason(), "KVM_EXIT_" + e.reason() + " " + e.getMessage());
            }

            @Override
            public Exit.Internal internalError() {
                return internal;
            }
        };
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int fd : fds) {
            files.close(fd);
        }
        try {
            kvm.close();
            mm.close();
        } finally {
            sched.detachCurrent();
            sched.close();
        }
    }
}
