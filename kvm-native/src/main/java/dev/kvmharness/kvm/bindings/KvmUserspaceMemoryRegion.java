// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/** struct kvm_userspace_memory_region, the argument of KVM_SET_USER_MEMORY_REGION. */
public final class KvmUserspaceMemoryRegion extends NativeStruct {
    public static final int OFF_SLOT = 0;
    public static final int OFF_FLAGS = 4;
    public static final int OFF_GUEST_PHYS_ADDR = 8;
    public static final int OFF_MEMORY_SIZE = 16;
    public static final int OFF_USERSPACE_ADDR = 24;
    public static final int SIZE = 32;

    public KvmUserspaceMemoryRegion(int slot, int flags, long gpa, long size, long hva) {
        super(SIZE);
        mem.setInt(OFF_SLOT, slot);
        mem.setInt(OFF_FLAGS, flags);
        mem.setLong(OFF_GUEST_PHYS_ADDR, gpa);
        mem.setLong(OFF_MEMORY_SIZE, size);
        mem.setLong(OFF_USERSPACE_ADDR, hva);
    }
}
