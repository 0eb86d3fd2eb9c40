// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

/**
 * One step of a generated MMU history. Each is something that happens to a VM in real life: a guest access,
 * host mm activity reaching KVM through the MMU notifier, a memslot ioctl, a dirty-log ioctl, the NX recovery
 * worker, or a fast zap of every root.
 */
public sealed interface MmuOp {
    /**
     * vCPU {@code vcpu} reads, writes or executes page {@code page} of slot {@code slot} (slot 3's range may
     * have no memslot: an MMIO access).
     */
    record Access(int vcpu, int slot, int page, boolean write, boolean exec) implements MmuOp {
    }

    /** madvise(MADV_DONTNEED) of {@code pages} pages from {@code page} of slot 1's host memory. */
    record Dontneed(int page, int pages) implements MmuOp {
    }

    /** Reclaim scanning: clear_flush_young over slot 1's host memory. */
    record Age() implements MmuOp {
    }

    /** Move slot 2 by {@code deltaPages} (or back), or delete and re-create it. */
    record MoveSlot2(int deltaPages) implements MmuOp {
    }

    record DeleteRecreateSlot2() implements MmuOp {
    }

    /** Dirty logging on or off for slot 1. */
    record ToggleDirtyLog() implements MmuOp {
    }

    record GetDirtyLog() implements MmuOp {
    }

    /** KVM_CLEAR_DIRTY_LOG of the first 64 pages of slot 1 (manual-protect VMs only). */
    record ClearDirtyLog(long mask) implements MmuOp {
    }

    /** Slot 3 created over its gpa range (where MMIO SPTEs may be cached), or deleted. */
    record ToggleSlot3() implements MmuOp {
    }

    /** One run of the NX recovery worker. */
    record NxRecover() implements MmuOp {
    }

    /** kvm_mmu_zap_all_fast(): every root invalidated. */
    record ZapAllFast() implements MmuOp {
    }

    /** kvm_zap_gfn_range() over {@code pages} pages of slot 1 from {@code page}. */
    record ZapGfnRange(int page, int pages) implements MmuOp {
    }
}
