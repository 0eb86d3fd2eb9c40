// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/**
 * struct kvm_segment as a value: a segment register's hidden part as KVM_GET/SET_SREGS exchange it.
 */
public record KvmSegment(long base, int limit, int selector, int type, boolean present, int dpl, boolean db,
                         boolean s, boolean l, boolean g, boolean avl, boolean unusable) {
    public static final int SIZE = 24;
    public static final int OFF_BASE = 0;
    public static final int OFF_LIMIT = 8;
    public static final int OFF_SELECTOR = 12;
    public static final int OFF_TYPE = 14;
    public static final int OFF_PRESENT = 15;
    public static final int OFF_DPL = 16;
    public static final int OFF_DB = 17;
    public static final int OFF_S = 18;
    public static final int OFF_L = 19;
    public static final int OFF_G = 20;
    public static final int OFF_AVL = 21;
    public static final int OFF_UNUSABLE = 22;

    /** A segment marked unusable (what the selftests put in LDTR). */
    public static KvmSegment unusableSegment() {
        return new KvmSegment(0, 0, 0, 0, false, 0, false, false, false, false, false, true);
    }
}
