// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import com.sun.jna.Pointer;
import dev.kvmharness.kvm.bindings.Ioctl;
import dev.kvmharness.kvm.bindings.KvmClearDirtyLog;
import dev.kvmharness.kvm.bindings.KvmCreateGuestMemfd;
import dev.kvmharness.kvm.bindings.KvmDirtyLog;
import dev.kvmharness.kvm.bindings.KvmEnableCap;
import dev.kvmharness.kvm.bindings.KvmUserspaceMemoryRegion;
import dev.kvmharness.kvm.bindings.KvmUserspaceMemoryRegion2;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;

/** A VM fd: memslots, vCPU creation, capabilities, dirty log, binary stats (the "VM ioctls" of api.rst). */
public final class VmFd extends OwnedFd {
    private final Kvm kvm;

    VmFd(Kvm kvm, int fd) {
        super(fd, "vm fd");
        this.kvm = kvm;
    }

    /** The system fd this VM was created from. */
    public Kvm kvm() {
        return kvm;
    }

    private int ioctl(Ioctl ioctl, Pointer arg) {
        return Sys.ioctl(fd(), ioctl.name(), ioctl.number(), arg);
    }

    private int ioctl(Ioctl ioctl, long arg) {
        return Sys.ioctl(fd(), ioctl.name(), ioctl.number(), arg);
    }

    /** KVM_CHECK_EXTENSION on the VM fd (some capabilities answer per VM, e.g. NR_MEMSLOTS). */
    public int checkExtension(int cap) {
        return ioctl(Ioctl.KVM_CHECK_EXTENSION, cap);
    }

    /** KVM_CREATE_VCPU; the vCPU's kvm_run page is mapped at once. */
    public VcpuFd createVcpu(int vcpuId) {
        int mmapSize = kvm.vcpuMmapSize();
        int vcpuFd = ioctl(Ioctl.KVM_CREATE_VCPU, vcpuId);
        return new VcpuFd(this, vcpuFd, vcpuId, mmapSize);
    }

    /** KVM_SET_USER_MEMORY_REGION: create, move, change flags of, or (size 0) delete a memslot. */
    public void setUserMemoryRegion(int slot, int flags, long gpa, long size, long hva) {
        ioctl(Ioctl.KVM_SET_USER_MEMORY_REGION, new KvmUserspaceMemoryRegion(slot, flags, gpa, size, hva).pointer());
    }

    /** KVM_SET_USER_MEMORY_REGION2: as above, plus a guest_memfd and offset for private memory. */
    public void setUserMemoryRegion2(int slot, int flags, long gpa, long size, long hva, long guestMemfdOffset, int guestMemfd) {
        ioctl(Ioctl.KVM_SET_USER_MEMORY_REGION2,
                new KvmUserspaceMemoryRegion2(slot, flags, gpa, size, hva, guestMemfdOffset, guestMemfd).pointer());
    }

    public void enableCap(int cap, long... args) {
        ioctl(Ioctl.KVM_ENABLE_CAP, new KvmEnableCap(cap, args).pointer());
    }

    public void setNrMmuPages(long pages) {
        ioctl(Ioctl.KVM_SET_NR_MMU_PAGES, pages);
    }

    public void setTssAddr(long addr) {
        ioctl(Ioctl.KVM_SET_TSS_ADDR, addr);
    }

    public void createIrqchip() {
        ioctl(Ioctl.KVM_CREATE_IRQCHIP, 0);
    }

    public int tscKhz() {
        return ioctl(Ioctl.KVM_GET_TSC_KHZ, 0);
    }

    /** KVM_GET_STATS_FD for this VM. */
    public StatsFd statsFd() {
        return new StatsFd(ioctl(Ioctl.KVM_GET_STATS_FD, 0), "vm stats fd");
    }

    /** KVM_CREATE_GUEST_MEMFD: a file of private guest memory. */
    public OwnedFd createGuestMemfd(long size, long flags) {
        return new OwnedFd(ioctl(Ioctl.KVM_CREATE_GUEST_MEMFD, new KvmCreateGuestMemfd(size, flags).pointer()), "guest_memfd");
    }

    /** KVM_GET_DIRTY_LOG into a caller-provided bitmap (one bit per page of the slot, 64-bit aligned). */
    public void getDirtyLog(int slot, Pointer bitmap) {
        ioctl(Ioctl.KVM_GET_DIRTY_LOG, new KvmDirtyLog(slot, bitmap).pointer());
    }

    /** KVM_CLEAR_DIRTY_LOG: re-protect the pages whose bits are set in {@code bitmap}. */
    public void clearDirtyLog(int slot, long firstPage, int numPages, Pointer bitmap) {
        ioctl(Ioctl.KVM_CLEAR_DIRTY_LOG, new KvmClearDirtyLog(slot, firstPage, numPages, bitmap).pointer());
    }
}
