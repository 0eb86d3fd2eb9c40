// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import com.sun.jna.Pointer;

/** struct kvm_dirty_log, the argument of KVM_GET_DIRTY_LOG: a slot and a user buffer for its bitmap. */
public final class KvmDirtyLog extends NativeStruct {
    public static final int OFF_SLOT = 0;
    public static final int OFF_DIRTY_BITMAP = 8;
    public static final int SIZE = 16;

    public KvmDirtyLog(int slot, Pointer bitmap) {
        super(SIZE);
        mem.setInt(OFF_SLOT, slot);
        mem.setPointer(OFF_DIRTY_BITMAP, bitmap);
    }
}
