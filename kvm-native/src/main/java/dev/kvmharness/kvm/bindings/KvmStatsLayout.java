// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/**
 * struct kvm_stats_header and struct kvm_stats_desc of the binary stats interface
 * (Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD"), and the flag fields of a descriptor.
 */
public final class KvmStatsLayout {
    private KvmStatsLayout() {
    }

    public static final int HEADER_OFF_FLAGS = 0;
    public static final int HEADER_OFF_NAME_SIZE = 4;
    public static final int HEADER_OFF_NUM_DESC = 8;
    public static final int HEADER_OFF_ID_OFFSET = 12;
    public static final int HEADER_OFF_DESC_OFFSET = 16;
    public static final int HEADER_OFF_DATA_OFFSET = 20;
    public static final int HEADER_SIZE = 24;

    public static final int DESC_OFF_FLAGS = 0;
    public static final int DESC_OFF_EXPONENT = 4;
    public static final int DESC_OFF_SIZE = 6;
    public static final int DESC_OFF_OFFSET = 8;
    public static final int DESC_OFF_BUCKET_SIZE = 12;
    public static final int DESC_OFF_NAME = 16;
    /** sizeof(struct kvm_stats_desc) without the flexible name[] array. */
    public static final int DESC_SIZE = 16;

    public static final int TYPE_SHIFT = 0;
    public static final int TYPE_MASK = 0xF;
    public static final int UNIT_SHIFT = 4;
    public static final int UNIT_MASK = 0xF << UNIT_SHIFT;
    public static final int BASE_SHIFT = 8;
    public static final int BASE_MASK = 0xF << BASE_SHIFT;
}
