// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * A VM as vm_create_barebones_type() leaves it: the VM fd and nothing else. The test issues the VM ioctls
 * itself and gets each one's errno back ({@link IoctlResult}), as the selftests' double-underscore wrappers
 * do; host memory and files it needs come from here too, so the same code runs on both backends. Closing it
 * destroys the VM and releases what it handed out.
 */
public interface BarebonesVm extends AutoCloseable {
    /** The VM type given to KVM_CREATE_VM. */
    int type();

    /** KVM_CHECK_EXTENSION on the VM fd. */
    int checkCap(int cap);

    /** __vm_set_user_memory_region(). */
    IoctlResult setUserMemoryRegion(int slot, int flags, long gpa, long size, long hva);

    /** __vm_set_user_memory_region2(). */
    IoctlResult setUserMemoryRegion2(int slot, int flags, long gpa, long size, long hva, int guestMemfd,
                                     long guestMemfdOffset);

    /** KVM_SET_NR_MMU_PAGES. */
    IoctlResult setNrMmuPages(long pages);

    /** vm_create_guest_memfd(): KVM_CREATE_GUEST_MEMFD, asserting success; close the fd when done. */
    HostFd createGuestMemfd(long size, long flags);

    /** kvm_memfd_alloc(size, false): a plain memfd of {@code size} bytes. */
    HostFd memfd(long size);

    /** vm->kvm_fd: the /dev/kvm fd the VM came from. */
    int kvmFd();

    /** vm->fd. */
    int vmFd();

    /**
     * mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS[|MAP_NORESERVE]): host memory for memslots; the
     * VM unmaps it when it is closed (after the VM itself is gone).
     */
    long mmapAnonymous(long size, boolean noReserve);

    /** munmap() of memory {@link #mmapAnonymous} returned (a memslot may still point at it). */
    void munmap(long hva, long size);

    /** __vm_vcpu_add(): KVM_CREATE_VCPU with no register set up, the vCPU at its reset state. */
    RawVcpu addRawVcpu(int id);

    @Override
    void close();

    /** An fd the test owns. */
    interface HostFd extends AutoCloseable {
        int fd();

        @Override
        void close();
    }

    /** A vCPU nobody set up: it runs from the reset vector. */
    interface RawVcpu {
        /** KVM_RUN once. */
        Exit run();

        /** run->internal after a KVM_EXIT_INTERNAL_ERROR. */
        Exit.Internal internalError();
    }
}
