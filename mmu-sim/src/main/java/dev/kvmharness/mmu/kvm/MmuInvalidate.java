// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

/**
 * The invalidation state faults check before installing an SPTE (kvm->mmu_invalidate_seq, _in_progress,
 * _range_start/_end; kvm_mmu_invalidate_begin/range_add/end and mmu_invalidate_retry_gfn). A fault that looked
 * up its pfn before or during an invalidation of its gfn must retry, or it could map a page being unmapped.
 */
public final class MmuInvalidate {
    private static final long INVALID_GPA = -1;
    private long seq;
    private int inProgress;
    private long rangeStart = INVALID_GPA;
    private long rangeEnd = INVALID_GPA;

    /** kvm_mmu_invalidate_begin(). */
    public void begin() {
        inProgress++;
        if (inProgress == 1) {
            rangeStart = INVALID_GPA;
            rangeEnd = INVALID_GPA;
        }
    }

    /** kvm_mmu_invalidate_range_add(): the first range sets it, later ones widen it. */
    public void rangeAdd(long start, long end) {
        if (rangeStart == INVALID_GPA) {
            rangeStart = start;
            rangeEnd = end;
        } else {
            rangeStart = Math.min(rangeStart, start);
            rangeEnd = Math.max(rangeEnd, end);
        }
    }

    /** kvm_mmu_invalidate_end(). */
    public void end() {
        seq++;
        if (--inProgress < 0) {
            throw new IllegalStateException("KVM bug: mmu_invalidate_in_progress went negative");
        }
    }

    public long seq() {
        return seq;
    }

    public int inProgress() {
        return inProgress;
    }

    /** The state a fault checks, for reports: the sequence, the count and the range in progress. */
    @Override
    public String toString() {
        return "mmu_invalidate_seq " + seq + ", mmu_invalidate_in_progress " + inProgress + (inProgress == 0 ? ""
                : rangeStart == INVALID_GPA ? ", no range yet"
                : ", range [0x" + Long.toHexString(rangeStart) + ", 0x" + Long.toHexString(rangeEnd) + ")");
    }

    /** mmu_invalidate_retry_gfn(): an invalidation covers gfn now, or one completed since {@code mmuSeq}. */
    public boolean retryGfn(long mmuSeq, long gfn) {
        if (inProgress > 0 && (rangeStart == INVALID_GPA || (gfn >= rangeStart && gfn < rangeEnd))) {
            return true;
        }
        return seq != mmuSeq;
    }
}
