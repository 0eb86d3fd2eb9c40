// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import dev.kvmharness.kvm.bindings.KvmStatsLayout;

/**
 * One struct kvm_stats_desc: a stat's name, type, unit, scale and where its values live in the data block.
 *
 * @param size number of u64 values (1 for scalars, the bucket count for histograms)
 * @param offset byte offset of the values from the start of the data block
 */
public record StatDescriptor(String name, int flags, int exponent, int size, int offset, int bucketSize) {

    /** KVM_STATS_TYPE_*: how a stat behaves over time. */
    public enum Type {
        CUMULATIVE, INSTANT, PEAK, LINEAR_HIST, LOG_HIST;

        static Type of(int flags) {
            int t = (flags & KvmStatsLayout.TYPE_MASK) >> KvmStatsLayout.TYPE_SHIFT;
            if (t >= values().length) {
                throw new IllegalArgumentException("unknown KVM_STATS_TYPE " + t);
            }
            return values()[t];
        }
    }

    /** KVM_STATS_UNIT_*. */
    public enum Unit {
        NONE, BYTES, SECONDS, CYCLES, BOOLEAN;

        static Unit of(int flags) {
            int u = (flags & KvmStatsLayout.UNIT_MASK) >> KvmStatsLayout.UNIT_SHIFT;
            if (u >= values().length) {
                throw new IllegalArgumentException("unknown KVM_STATS_UNIT " + u);
            }
            return values()[u];
        }
    }

    public Type type() {
        return Type.of(flags);
    }

    public Unit unit() {
        return Unit.of(flags);
    }

    /** KVM_STATS_BASE_POW10 (10) or KVM_STATS_BASE_POW2 (2). */
    public int base() {
        return ((flags & KvmStatsLayout.BASE_MASK) >> KvmStatsLayout.BASE_SHIFT) == 0 ? 10 : 2;
    }

    public boolean isHistogram() {
        return type() == Type.LINEAR_HIST || type() == Type.LOG_HIST;
    }
}
