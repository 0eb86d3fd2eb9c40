// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import static dev.kvmharness.kvm.bindings.Ioc.io;
import static dev.kvmharness.kvm.bindings.Ioc.ior;
import static dev.kvmharness.kvm.bindings.Ioc.iow;
import static dev.kvmharness.kvm.bindings.Ioc.iowr;

/**
 * Every ioctl kvm-native issues, with its kernel name and number (include/uapi/linux/kvm.h,
 * include/uapi/linux/userfaultfd.h). Numbers are computed from the struct sizes in this package; a unit test
 * compares them with the values the kernel headers produce.
 */
public enum Ioctl {
    // system ioctls (/dev/kvm)
    KVM_GET_API_VERSION(io(KvmApi.KVMIO, 0x00)),
    KVM_CREATE_VM(io(KvmApi.KVMIO, 0x01)),
    KVM_CHECK_EXTENSION(io(KvmApi.KVMIO, 0x03)),
    KVM_GET_VCPU_MMAP_SIZE(io(KvmApi.KVMIO, 0x04)),
    KVM_GET_SUPPORTED_CPUID(iowr(KvmApi.KVMIO, 0x05, KvmCpuid2.HEADER_SIZE)),
    // VM ioctls
    KVM_CREATE_VCPU(io(KvmApi.KVMIO, 0x41)),
    KVM_GET_DIRTY_LOG(iow(KvmApi.KVMIO, 0x42, KvmDirtyLog.SIZE)),
    KVM_SET_NR_MMU_PAGES(io(KvmApi.KVMIO, 0x44)),
    KVM_SET_USER_MEMORY_REGION(iow(KvmApi.KVMIO, 0x46, KvmUserspaceMemoryRegion.SIZE)),
    KVM_SET_TSS_ADDR(io(KvmApi.KVMIO, 0x47)),
    KVM_SET_USER_MEMORY_REGION2(iow(KvmApi.KVMIO, 0x49, KvmUserspaceMemoryRegion2.SIZE)),
    KVM_CREATE_IRQCHIP(io(KvmApi.KVMIO, 0x60)),
    KVM_ENABLE_CAP(iow(KvmApi.KVMIO, 0xa3, KvmEnableCap.SIZE)),
    KVM_GET_TSC_KHZ(io(KvmApi.KVMIO, 0xa3)),
    KVM_CLEAR_DIRTY_LOG(iowr(KvmApi.KVMIO, 0xc0, KvmClearDirtyLog.SIZE)),
    KVM_GET_STATS_FD(io(KvmApi.KVMIO, 0xce)),
    KVM_CREATE_GUEST_MEMFD(iowr(KvmApi.KVMIO, 0xd4, KvmCreateGuestMemfd.SIZE)),
    // vCPU ioctls
    KVM_RUN(io(KvmApi.KVMIO, 0x80)),
    KVM_GET_REGS(ior(KvmApi.KVMIO, 0x81, KvmRegs.SIZE)),
    KVM_SET_REGS(iow(KvmApi.KVMIO, 0x82, KvmRegs.SIZE)),
    KVM_GET_SREGS(ior(KvmApi.KVMIO, 0x83, KvmSregs.SIZE)),
    KVM_SET_SREGS(iow(KvmApi.KVMIO, 0x84, KvmSregs.SIZE)),
    KVM_SET_CPUID2(iow(KvmApi.KVMIO, 0x90, KvmCpuid2.HEADER_SIZE)),
    KVM_SET_MP_STATE(iow(KvmApi.KVMIO, 0x99, 4)),
    // userfaultfd ioctls
    UFFDIO_API(iowr(Uffd.UFFDIO, Uffd.NR_API, Uffd.API_SIZE)),
    UFFDIO_REGISTER(iowr(Uffd.UFFDIO, Uffd.NR_REGISTER, Uffd.REGISTER_SIZE)),
    UFFDIO_UNREGISTER(ior(Uffd.UFFDIO, Uffd.NR_UNREGISTER, Uffd.RANGE_SIZE)),
    UFFDIO_WAKE(ior(Uffd.UFFDIO, Uffd.NR_WAKE, Uffd.RANGE_SIZE)),
    UFFDIO_COPY(iowr(Uffd.UFFDIO, Uffd.NR_COPY, Uffd.COPY_SIZE)),
    UFFDIO_ZEROPAGE(iowr(Uffd.UFFDIO, Uffd.NR_ZEROPAGE, Uffd.ZEROPAGE_SIZE)),
    UFFDIO_CONTINUE(iowr(Uffd.UFFDIO, Uffd.NR_CONTINUE, Uffd.CONTINUE_SIZE));

    private final long number;

    Ioctl(long number) {
        this.number = number;
    }

    /** The request number passed to ioctl(2). */
    public long number() {
        return number;
    }
}
