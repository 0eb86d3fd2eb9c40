// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * A kernel struct in native memory with its fields at fixed offsets: the raw layer stays literal (offsets
 * are the C offsetof values, checked by tests) and costs no reflection per call, unlike JNA's Structure.
 */
public abstract class NativeStruct {
    protected final Memory mem;

    protected NativeStruct(long size) {
        this.mem = new Memory(size);
        this.mem.clear();
    }

    /** The struct's address, to pass to ioctl(2). */
    public final Pointer pointer() {
        return mem;
    }

    public final long size() {
        return mem.size();
    }

    /** Zeroes every byte, so one instance can be reused across calls. */
    public final void clear() {
        mem.clear();
    }
}
