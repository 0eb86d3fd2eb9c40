// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import com.sun.jna.Pointer;

/** struct kvm_clear_dirty_log, the argument of KVM_CLEAR_DIRTY_LOG (manual dirty-log protect). */
public final class KvmClearDirtyLog extends NativeStruct {
    public static final int OFF_SLOT = 0;
    public static final int OFF_NUM_PAGES = 4;
    public static final int OFF_FIRST_PAGE = 8;
    public static final int OFF_DIRTY_BITMAP = 16;
    public static final int SIZE = 24;

    public KvmClearDirtyLog(int slot, long firstPage, int numPages, Pointer bitmap) {
        super(SIZE);
        mem.setInt(OFF_SLOT, slot);
        mem.setInt(OFF_NUM_PAGES, numPages);
        mem.setLong(OFF_FIRST_PAGE, firstPage);
        mem.setPointer(OFF_DIRTY_BITMAP, bitmap);
    }
}
