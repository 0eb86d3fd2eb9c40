// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/** struct kvm_userspace_memory_region2, the argument of KVM_SET_USER_MEMORY_REGION2 (guest_memfd capable). */
public final class KvmUserspaceMemoryRegion2 extends NativeStruct {
    public static final int OFF_SLOT = 0;
    public static final int OFF_FLAGS = 4;
    public static final int OFF_GUEST_PHYS_ADDR = 8;
    public static final int OFF_MEMORY_SIZE = 16;
    public static final int OFF_USERSPACE_ADDR = 24;
    public static final int OFF_GUEST_MEMFD_OFFSET = 32;
    public static final int OFF_GUEST_MEMFD = 40;
    public static final int OFF_PAD1 = 44;
    public static final int OFF_PAD2 = 48;
    public static final int SIZE = 160;

    public KvmUserspaceMemoryRegion2(int slot, int flags, long gpa, long size, long hva,
                                     long guestMemfdOffset, int guestMemfd) {
        super(SIZE);
        mem.setInt(OFF_SLOT, slot);
        mem.setInt(OFF_FLAGS, flags);
        mem.setLong(OFF_GUEST_PHYS_ADDR, gpa);
        mem.setLong(OFF_MEMORY_SIZE, size);
        mem.setLong(OFF_USERSPACE_ADDR, hva);
        mem.setLong(OFF_GUEST_MEMFD_OFFSET, guestMemfdOffset);
        mem.setInt(OFF_GUEST_MEMFD, guestMemfd);
    }
}
