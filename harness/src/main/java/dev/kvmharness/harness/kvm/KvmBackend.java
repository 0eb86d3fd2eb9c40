// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BarebonesVm;
import dev.kvmharness.harness.HostCaps;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.kvm.Kvm;
import dev.kvmharness.kvm.VcpuKick;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.kvm.bindings.KvmCpuid2;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.SyscallException;
import java.util.Optional;

/** The real backend: VMs on /dev/kvm through kvm-native. */
public final class KvmBackend implements Backend {
    private volatile HostCaps caps;

    @Override
    public String name() {
        return "kvm";
    }

    @Override
    public String describe() {
        return "kvm (" + Kvm.DEV_KVM + ", Linux " + kernelRelease() + "): times are wall-clock";
    }

    private static String kernelRelease() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (java.io.IOException | RuntimeException e) {
            return System.getProperty("os.version");
        }
    }

    @Override
    public Optional<String> unavailableReason() {
        return Kvm.unavailableReason();
    }

    /**
     * open_kvm_dev_path_or_exit(): skip (exit 4) when /dev/kvm is missing or not ours to open; any other
     * failure is a test failure, as in C.
     */
    Kvm openOrSkip() {
        try {
            return Kvm.open();
        } catch (SyscallException e) {
            if (e.is(Errno.ENOENT) || e.is(Errno.ENXIO) || e.is(Errno.ENODEV)) {
                throw new TestSkipped(Kvm.DEV_KVM + " not present");
            }
            if (e.is(Errno.EACCES) || e.is(Errno.EPERM)) {
                throw new TestSkipped(Kvm.DEV_KVM + " not accessible: " + e.getMessage());
            }
            throw e;
        }
    }

    @Override
    public HostCaps caps() {
        HostCaps c = caps;
        if (c == null) {
            try (Kvm kvm = openOrSkip()) {
                c = readCaps(kvm);
            }
            caps = c;
        }
        return c;
    }

    static HostCaps readCaps(Kvm kvm) {
        KvmCpuid2 cpuid = kvm.supportedCpuid();
        int paBits = 36;
        int guestPhysBits = 0;
        boolean gbPages = false;
        for (KvmCpuid2.Entry e : cpuid.entries()) {
            if (e.function() == 0x80000008) {
                paBits = e.eax() & 0xff;
                guestPhysBits = (e.eax() >>> 16) & 0xff;
            }
            if (e.function() == 0x80000001) {
                gbPages = (e.edx() & (1 << 26)) != 0;
            }
        }
        long gpaLimit = HostCpu.read().gpaLimit(guestPhysBits != 0 ? guestPhysBits : paBits, paBits);
        return new HostCaps(kvm.checkExtension(KvmApi.KVM_CAP_MAX_VCPUS), kvm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS),
                paBits, gpaLimit, gbPages, kvm.has(KvmApi.KVM_CAP_USER_MEMORY2), kvm.has(KvmApi.KVM_CAP_GUEST_MEMFD),
                kvm.has(KvmApi.KVM_CAP_BINARY_STATS_FD));
    }

    @Override
    public int checkCap(int cap) {
        try (Kvm kvm = openOrSkip()) {
            return kvm.checkExtension(cap);
        }
    }

    @Override
    public BarebonesVm createBarebonesVm(int type) {
        VcpuKick.install();
        return new KvmBarebonesVm(openOrSkip(), type);
    }

    @Override
    public Vm createVm(VmShape shape) {
        VcpuKick.install();
        HostCaps c = caps();
        if (shape.nrVcpus() > c.maxVcpus()) {
            throw new IllegalArgumentException("nr_vcpus = " + shape.nrVcpus() + " too large for host, max-vcpus = " + c.maxVcpus());
        }
        return new KvmVm(this, openOrSkip(), shape, c);
    }

    /** /sys/kernel/mm/page_idle/bitmap opened O_RDWR, as access_tracking_perf_test's main() opens it. */
    @Override
    public Optional<String> pageIdleUnavailableReason() {
        return KvmHostPages.pageIdleUnavailableReason();
    }
}
