// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/** struct kvm_enable_cap, the argument of KVM_ENABLE_CAP. */
public final class KvmEnableCap extends NativeStruct {
    public static final int OFF_CAP = 0;
    public static final int OFF_FLAGS = 4;
    public static final int OFF_ARGS = 8;
    public static final int SIZE = 104;

    public KvmEnableCap(int cap, long... args) {
        super(SIZE);
        if (args.length > 4) {
            throw new IllegalArgumentException("kvm_enable_cap has 4 args, got " + args.length);
        }
        mem.setInt(OFF_CAP, cap);
        for (int i = 0; i < args.length; i++) {
            mem.setLong(OFF_ARGS + 8L * i, args[i]);
        }
    }
}
