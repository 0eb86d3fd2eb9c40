// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.observe;

import dev.kvmharness.mmu.policy.FlushSite;

/**
 * What the MMU model tells whoever checks it, at the points where KVM makes a promise or the hardware uses a
 * translation. The model calls these and never looks at the answer: a checker (the stale-translation oracle)
 * implements them outside the model, so the model does not depend on its checks. Every method defaults to doing
 * nothing, which is {@link #NONE}, what a VM has until a checker attaches.
 *
 * <p>vCPUs are named by their vcpu_id so this package depends on nothing of the model but the flush sites.
 */
public interface MmuObserver {
    /** Observes nothing. */
    MmuObserver NONE = new MmuObserver() {
    };

    /** An operation happened (for the history a checker reports with a finding). */
    default void note(String op) {
    }

    /** kvm_flush_remote_tlbs() for {@code site} went out: every vCPU will flush before it next enters the guest. */
    default void flushIssued(FlushSite site) {
    }

    /** The policy dropped the flush at {@code site} (a test switch). */
    default void flushDropped(FlushSite site) {
    }

    /**
     * handle_changed_spte() took away or narrowed the translation of [gfn, gfn + pages) on the calling thread:
     * a remote flush is owed before that thread's operation returns.
     */
    default void flushOwed(long gfn, long pages) {
    }

    /**
     * An operation that promises "no vCPU can use the old translation any more" is returning to its caller
     * ({@code where}: invalidate_range_start, a memslot update, a dirty-log ioctl, NX recovery, ...).
     */
    default void checkpoint(String where) {
    }

    /**
     * Aging cleared the Accessed bit of the leaf mapping [gfn, gfn + pages) in address space {@code asId}, leaving
     * the translation in place: vCPUs that cache it keep using it without setting the bit again until their
     * next TLB flush.
     */
    default void accessedCleared(int asId, long gfn, long pages) {
    }

    /** A guest access of vCPU {@code vcpuId} hit its TLB entry for gfn, mapping pfn. */
    default void tlbEntryUsed(int vcpuId, long gfn, long pfn, boolean write) {
    }

    /** The hardware EPT walk of vCPU {@code vcpuId} found a present leaf SPTE mapping gfn to pfn. */
    default void spteUsed(int vcpuId, long gfn, long pfn, boolean writable) {
    }

    /**
     * KVM is about to exit to userspace with KVM_EXIT_MMIO for gfn, having looked at the memslots of
     * {@code generation}; {@code why} says which path (emulation, a cached MMIO SPTE).
     */
    default void mmioExit(int vcpuId, long gfn, boolean write, long generation, String why) {
    }

    /** {@code where} (invalidate_range_start) returned, promising no root of address space asId maps [start, end). */
    default void gfnRangeUnmapped(String where, int asId, long gfnStart, long gfnEnd) {
    }

    /**
     * kvm_arch_flush_shadow_memslot() returned for a slot being deleted or moved ({@code what}): no valid root of
     * address space asId may map [start, end) any more (invalid roots may, until their zap; vCPUs leave them).
     */
    default void memslotFlushed(String what, int asId, long gfnStart, long gfnEnd) {
    }

    /** The hardware EPT walk of vCPU {@code vcpuId} for gfn reached a page table RCU already freed. */
    default void freedTableWalked(int vcpuId, long gfn) {
    }
}
