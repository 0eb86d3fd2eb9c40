// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

/** KVM_STATS_TYPE_*: how a binary stat behaves over time. */
public enum StatKind {
    CUMULATIVE, INSTANT, PEAK
}
