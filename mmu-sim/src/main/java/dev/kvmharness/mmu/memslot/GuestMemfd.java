// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import java.util.Objects;

/**
 * A guest_memfd file (virt/kvm/guest_memfd.c) as memslot binding sees it: created on one VM by
 * KVM_CREATE_GUEST_MEMFD with a fixed size, and bindable only to that VM's private memslots
 * (kvm_gmem_bind() compares the file's kvm with the slot's). Its pages are not modelled: the simulator's
 * guests never touch private memory.
 */
public final class GuestMemfd {
    /** The KVM_CREATE_GUEST_MEMFD flags 6.12 accepts: none. */
    public static final long VALID_FLAGS = 0;

    private final Object owner;
    private final long size;

    private GuestMemfd(Object owner, long size) {
        this.owner = owner;
        this.size = size;
    }

    /**
     * kvm_gmem_create(): unknown flags, a size that is not positive, or one that is not page aligned are
     * EINVAL.
     *
     * @param owner the VM (struct kvm) the file belongs to
     */
    public static GuestMemfd create(Object owner, long size, long flags) {
        Objects.requireNonNull(owner, "owner");
        String call = "KVM_CREATE_GUEST_MEMFD";
        if ((flags & ~VALID_FLAGS) != 0) {
            throw new SimKvmException(call, KvmErrno.EINVAL, "flags 0x" + Long.toHexString(flags) + " not supported");
        }
        if (size <= 0 || (size & (Memslot.PAGE_SIZE - 1)) != 0) {
            throw new SimKvmException(call, KvmErrno.EINVAL, "size 0x" + Long.toHexString(size)
                    + " not a positive multiple of the page size");
        }
        return new GuestMemfd(owner, size);
    }

    /** Whether the file was created on {@code vm}. */
    public boolean ownedBy(Object vm) {
        return owner == vm;
    }

    public long size() {
        return size;
    }
}
