// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.BarebonesVm;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.GuestTimeoutException;
import dev.kvmharness.harness.IoctlResult;
import dev.kvmharness.kvm.Kvm;
import dev.kvmharness.kvm.VcpuFd;
import dev.kvmharness.kvm.VmFd;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.kvm.bindings.KvmRun;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Mapping;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import dev.kvmharness.sys.SyscallException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** vm_create_barebones_type() on /dev/kvm: the VM fd, the ioctls issued as asked, their errnos returned. */
final class KvmBarebonesVm implements BarebonesVm {
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(2);
    private final Kvm kvm;
    private final VmFd vm;
    private final int type;
    private final List<VcpuFd> vcpus = new ArrayList<>();
    private final List<Mapping> mappings = new ArrayList<>();
    private final List<OwnedFd> fds = new ArrayList<>();
    private boolean closed;

    KvmBarebonesVm(Kvm kvm, int type) {
        this.kvm = kvm;
        this.type = type;
        try {
            this.vm = kvm.createVm(type);
        } catch (RuntimeException e) {
            kvm.close();
            throw e;
        }
    }

    @Override
    public int type() {
        return type;
    }

    @Override
    public int checkCap(int cap) {
        return vm.checkExtension(cap);
    }

    private static IoctlResult issue(String ioctl, Runnable call) {
        try {
            call.run();
            return IoctlResult.ok(ioctl);
        } catch (SyscallException e) {
            return new IoctlResult(ioctl, e.errno());
        }
    }

    @Override
    public IoctlResult setUserMemoryRegion(int slot, int flags, long gpa, long size, long hva) {
        return issue("KVM_SET_USER_MEMORY_REGION", () -> vm.setUserMemoryRegion(slot, flags, gpa, size, hva));
    }

    @Override
    public IoctlResult setUserMemoryRegion2(int slot, int flags, long gpa, long size, long hva, int guestMemfd,
                                            long guestMemfdOffset) {
        return issue("KVM_SET_USER_MEMORY_REGION2",
                () -> vm.setUserMemoryRegion2(slot, flags, gpa, size, hva, guestMemfdOffset, guestMemfd));
    }

    @Override
    public IoctlResult setNrMmuPages(long pages) {
        return issue("KVM_SET_NR_MMU_PAGES", () -> vm.setNrMmuPages(pages));
    }

    private HostFd track(OwnedFd fd) {
        fds.add(fd);
        return new HostFd() {
            @Override
            public int fd() {
                return fd.fd();
            }

            @Override
            public void close() {
                fd.close();
            }
        };
    }

    @Override
    public HostFd createGuestMemfd(long size, long flags) {
        return track(vm.createGuestMemfd(size, flags));
    }

    @Override
    public HostFd memfd(long size) {
        OwnedFd fd = new OwnedFd(Sys.memfdCreate("kvm_selftest", 0), "memfd");
        try {
            Sys.ftruncate(fd.fd(), size);
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        return track(fd);
    }

    @Override
    public int kvmFd() {
        return kvm.fd();
    }

    @Override
    public int vmFd() {
        return vm.fd();
    }

    @Override
    public long mmapAnonymous(long size, boolean noReserve) {
        Mapping m = Mapping.map(size, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | (noReserve ? LibC.MAP_NORESERVE : 0), -1, 0);
        mappings.add(m);
        return m.address();
    }

    @Override
    public void munmap(long hva, long size) {
        for (Mapping m : mappings) {
            if (m.address() == hva && !m.isClosed()) {
                if (m.length() != size) {
                    throw new IllegalArgumentException("munmap of part of a mapping is not supported");
                }
                m.close();
                return;
            }
        }
        throw new IllegalArgumentException(String.format("no mapping at 0x%x from mmapAnonymous()", hva));
    }

    @Override
    public RawVcpu addRawVcpu(int id) {
        VcpuFd fd = vm.createVcpu(id);
        vcpus.add(fd);
        KvmRun run = fd.kvmRun();
        RunWatchdog watchdog = new RunWatchdog(run);
        return new RawVcpu() {
            @Override
            @SuppressWarnings("Finally") // a fired deadline is why KVM_RUN ended: the timeout is the error to report
            public Exit run() {
                while (true) {
                    RunWatchdog.Deadline d = watchdog.arm(Sys.gettid(), RUN_TIMEOUT);
                    boolean exited;
                    try {
                        exited = fd.run();
                    } finally {
                        if (d.disarm()) {
                            throw new GuestTimeoutException(id, RUN_TIMEOUT);
                        }
                    }
                    if (exited) {
                        return new Exit(run.exitReason(), KvmApi.exitReasonName(run.exitReason()), run.describe());
                    }
                    run.immediateExit(false);
                }
            }

            @Override
            public Exit.Internal internalError() {
                return new Exit.Internal(run.internalSuberror(), run.internalData());
            }
        };
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<AutoCloseable> order = new ArrayList<>(vcpus);
        order.addAll(fds);
        order.add(vm);
        order.add(kvm);
        // Host memory last: no memslot may still point at it.
        order.addAll(mappings);
        RuntimeException failure = null;
        for (AutoCloseable c : order) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing barebones VM resources failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
