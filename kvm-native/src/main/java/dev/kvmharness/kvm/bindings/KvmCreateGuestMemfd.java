// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/** struct kvm_create_guest_memfd, the argument of KVM_CREATE_GUEST_MEMFD. */
public final class KvmCreateGuestMemfd extends NativeStruct {
    public static final int OFF_SIZE = 0;
    public static final int OFF_FLAGS = 8;
    public static final int OFF_RESERVED = 16;
    public static final int SIZE = 64;

    public KvmCreateGuestMemfd(long size, long flags) {
        super(SIZE);
        mem.setLong(OFF_SIZE, size);
        mem.setLong(OFF_FLAGS, flags);
    }
}
