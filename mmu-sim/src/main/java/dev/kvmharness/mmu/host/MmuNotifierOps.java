// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * {@code struct mmu_notifier_ops}: the callbacks a secondary MMU (KVM) registers on an mm to hear about
 * changes to the primary page tables. Ranges are host virtual addresses, {@code [start, end)}, page aligned.
 * Implemented by the KVM side ({@code kvm_mmu_notifier_*} in virt/kvm/kvm_main.c).
 */
public interface MmuNotifierOps {
    /**
     * Pages in the range are about to be unmapped or freed: the secondary MMU must drop its mappings before
     * returning. Calls nest (a THP split inside an munmap brings its own start/end pair).
     *
     * @param mayBlock {@code mmu_notifier_range_blockable()}: false only for the OOM reaper
     */
    void invalidateRangeStart(long start, long end, boolean mayBlock);

    /** The change announced by the matching {@link #invalidateRangeStart} is complete. */
    void invalidateRangeEnd(long start, long end);

    /** Page reclaim's aging: clear the accessed state for the range and flush; returns whether it was young. */
    boolean clearFlushYoung(long start, long end);

    /** Idle page tracking: clear the accessed state without a TLB flush; returns whether it was young. */
    boolean clearYoung(long start, long end);

    /** khugepaged: whether the page at hva was accessed, without clearing anything. */
    boolean testYoung(long hva);

    /** The mm is being torn down ({@code exit_mmap}): drop every mapping; no more calls follow. */
    void release();
}
