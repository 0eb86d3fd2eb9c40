// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import dev.kvmharness.kvm.bindings.Ioctl;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.kvm.bindings.KvmCpuid2;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.IoctlException;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import dev.kvmharness.sys.SyscallException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The /dev/kvm system fd: capabilities, supported CPUID, VM creation (the "system ioctls" of api.rst). */
public final class Kvm extends OwnedFd {
    /**
     * The KVM device node: /dev/kvm unless the system property {@code kvmharness.dev.kvm} names another (to
     * run against a differently named node, or to check that tests skip where KVM is missing).
     */
    public static final String DEV_KVM = System.getProperty("kvmharness.dev.kvm", "/dev/kvm");
    /** Large enough for every CPUID leaf KVM reports (the selftests use 100). */
    private static final int MAX_CPUID_ENTRIES = 256;

    private Kvm(int fd, String path) {
        super(fd, path);
    }

    /** Opens /dev/kvm read-write; fails with {@code open failed: ENOENT} and friends. */
    public static Kvm open() {
        return open(DEV_KVM);
    }

    /**
     * Opens the KVM device node at {@code path} and asks its API version, as the first ioctl on it: a node that is
     * not KVM (a mistyped {@code kvmharness.dev.kvm}, a stand-in device) fails that with ENOTTY, which
     * {@link NotKvmDeviceException} names instead of leaving a bare ENOTTY to the next ioctl.
     */
    public static Kvm open(String path) {
        Kvm kvm = new Kvm(Sys.open(path, LibC.O_RDWR | LibC.O_CLOEXEC), path);
        try {
            kvm.apiVersion();
        } catch (IoctlException e) {
            kvm.close();
            throw e.is(Errno.ENOTTY) ? new NotKvmDeviceException(path, e.ioctl(), e.errno()) : e;
        }
        return kvm;
    }

    /**
     * Why /dev/kvm cannot be used here, or empty when it can: the same probe as the selftests'
     * open_path_or_exit() plus an API version check.
     */
    public static Optional<String> unavailableReason() {
        if (!Files.exists(Path.of(DEV_KVM))) {
            return Optional.of(DEV_KVM + " not present");
        }
        try (Kvm kvm = open()) {
            int version = kvm.apiVersion();
            if (version != KvmApi.KVM_API_VERSION) {
                return Optional.of("KVM_GET_API_VERSION returned " + version + ", expected " + KvmApi.KVM_API_VERSION);
            }
            return Optional.empty();
        } catch (SyscallException e) {
            return Optional.of(e.getMessage());
        }
    }

    public int apiVersion() {
        return Sys.ioctl(fd(), Ioctl.KVM_GET_API_VERSION.name(), Ioctl.KVM_GET_API_VERSION.number(), 0);
    }

    /** KVM_CHECK_EXTENSION on the system fd: 0 when unsupported, else a capability-specific value. */
    public int checkExtension(int cap) {
        return Sys.ioctl(fd(), Ioctl.KVM_CHECK_EXTENSION.name(), Ioctl.KVM_CHECK_EXTENSION.number(), cap);
    }

    public int vcpuMmapSize() {
        return Sys.ioctl(fd(), Ioctl.KVM_GET_VCPU_MMAP_SIZE.name(), Ioctl.KVM_GET_VCPU_MMAP_SIZE.number(), 0);
    }

    /** KVM_GET_SUPPORTED_CPUID: what this host lets a guest see. */
    public KvmCpuid2 supportedCpuid() {
        KvmCpuid2 cpuid = new KvmCpuid2(MAX_CPUID_ENTRIES);
        Sys.ioctl(fd(), Ioctl.KVM_GET_SUPPORTED_CPUID.name(), Ioctl.KVM_GET_SUPPORTED_CPUID.number(), cpuid.pointer());
        return cpuid;
    }

    /** KVM_CREATE_VM with a machine type (KVM_X86_DEFAULT_VM = 0). */
    public VmFd createVm(int type) {
        int vmfd = Sys.ioctl(fd(), Ioctl.KVM_CREATE_VM.name(), Ioctl.KVM_CREATE_VM.number(), type);
        return new VmFd(this, vmfd);
    }

    /** True if KVM_CHECK_EXTENSION reports the capability (KVM answers 0 for capabilities it does not know). */
    public boolean has(int cap) {
        return checkExtension(cap) > 0;
    }
}
