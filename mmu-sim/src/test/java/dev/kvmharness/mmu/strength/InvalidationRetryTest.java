// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.MmuInvalidate;
import org.junit.jupiter.api.Test;

/**
 * mmu_invalidate_retry_gfn(), the rule behind is_page_fault_stale(): a fault that sampled mmu_invalidate_seq
 * before looking up its pfn must retry if an invalidation of any range completed since (the pfn may be freed),
 * and every fault on a gfn of an in-progress invalidation must retry, the range's last gfn included.
 */
class InvalidationRetryTest {
    private static final long START = 0x40000;
    private static final long END = 0x40200;

    @Test
    void aCompletedInvalidationMakesEveryEarlierFaultRetry() {
        MmuInvalidate inv = new MmuInvalidate();
        long faultSeq = inv.seq();
        inv.begin();
        inv.rangeAdd(START, END);
        inv.end();
        assertThat(inv.inProgress()).isZero();
        assertThat(inv.retryGfn(faultSeq, START))
                .as("kvm_mmu_invalidate_end() must bump mmu_invalidate_seq: a fault that looked up its pfn before the"
                        + " invalidation of gfn 0x%x would otherwise map the page it just lost", START)
                .isTrue();
        assertThat(inv.retryGfn(faultSeq, END + 100))
                .as("a completed invalidation makes every fault that sampled the old mmu_invalidate_seq retry,"
                        + " inside the range or not")
                .isTrue();
        assertThat(inv.retryGfn(inv.seq(), START)).as("a fault that sampled the new sequence proceeds").isFalse();
    }

    @Test
    void anInProgressInvalidationCoversEveryGfnOfItsRange() {
        MmuInvalidate inv = new MmuInvalidate();
        long faultSeq = inv.seq();
        inv.begin();
        inv.rangeAdd(START, END);
        for (long gfn = START; gfn < END; gfn++) {
            assertThat(inv.retryGfn(faultSeq, gfn))
                    .as("mmu_invalidate_retry_gfn() must cover gfn 0x%x of the in-progress range [0x%x, 0x%x)"
                            + " (the range end is exclusive, its last gfn is END - 1)", gfn, START, END)
                    .isTrue();
        }
        assertThat(inv.retryGfn(faultSeq, END)).as("the range end itself is outside").isFalse();
        assertThat(inv.retryGfn(faultSeq, START - 1)).as("below the range").isFalse();
        inv.end();
    }

    /**
     * Two overlapping invalidations, A and B, both started, then one of them ends. mmu_invalidate_range_* cannot
     * remember two ranges: kvm_mmu_invalidate_range_add() widens one to cover both, and it stays that wide until
     * the last of them ends (mmu_invalidate_in_progress back to 0); kvm_mmu_invalidate_end() bumps
     * mmu_invalidate_seq at every end, not only the last. So a fault that sampled the sequence before the first end
     * must retry even on a gfn outside every range still open (its pfn may come from the range that just ended);
     * one that sampled it after retries only inside the widened range; and every fault retries again at the
     * second end. Either order of ends.
     */
    @Test
    void nestedInvalidationsBumpTheSequenceAtEachEndAndKeepTheWidenedRangeUntilTheLast() {
        long bStart = START + 0x100;
        long bEnd = END + 0x100;
        long onlyA = START + 0x50;
        long onlyB = END + 0x50;
        long both = START + 0x150;
        long outside = END + 0x1000;
        for (boolean aEndsFirst : new boolean[] {true, false}) {
            String order = aEndsFirst ? "A ends first" : "B ends first";
            long stillOpenOnly = aEndsFirst ? onlyB : onlyA;
            long endedOnly = aEndsFirst ? onlyA : onlyB;
            MmuInvalidate inv = new MmuInvalidate();
            long before = inv.seq();
            inv.begin();
            inv.rangeAdd(START, END);
            inv.begin();
            inv.rangeAdd(bStart, bEnd);
            assertThat(inv.inProgress()).isEqualTo(2);
            assertThat(inv.retryGfn(before, outside)).as("%s: nothing ended yet, and gfn 0x%x is in neither range", order, outside)
                    .isFalse();

            inv.end();
            assertThat(inv.inProgress()).as(order).isEqualTo(1);
            assertThat(inv.seq()).as("%s: kvm_mmu_invalidate_end() bumps mmu_invalidate_seq while the other is still open",
                    order).isEqualTo(before + 1);
            for (long gfn : new long[] {outside, endedOnly, stillOpenOnly, both}) {
                assertThat(inv.retryGfn(before, gfn))
                        .as("%s: a fault on gfn 0x%x that sampled mmu_invalidate_seq before that end must retry, inside the"
                                + " still-open range or not", order, gfn)
                        .isTrue();
            }
            long between = inv.seq();
            assertThat(inv.retryGfn(between, outside))
                    .as("%s: a fault sampled after the first end, outside both ranges, proceeds while the other is open", order)
                    .isFalse();
            for (long gfn : new long[] {endedOnly, stillOpenOnly, both}) {
                assertThat(inv.retryGfn(between, gfn))
                        .as("%s: gfn 0x%x is in the range widened over [0x%x, 0x%x), which stays until the last end", order,
                                gfn, START, bEnd)
                        .isTrue();
            }
            assertThat(inv.retryGfn(between, bEnd)).as("%s: the widened range's end is exclusive", order).isFalse();

            inv.end();
            assertThat(inv.inProgress()).as(order).isZero();
            assertThat(inv.seq()).as(order).isEqualTo(before + 2);
            assertThat(inv.retryGfn(between, outside))
                    .as("%s: the last end bumps the sequence too: a fault sampled between the two ends retries", order)
                    .isTrue();
            for (long gfn : new long[] {outside, endedOnly, stillOpenOnly, both}) {
                assertThat(inv.retryGfn(inv.seq(), gfn)).as("%s: nothing in progress, sequence current: gfn 0x%x proceeds",
                        order, gfn).isFalse();
            }

            // The next invalidation starts from its own range, not the widened one left behind.
            inv.begin();
            inv.rangeAdd(outside, outside + 1);
            assertThat(inv.retryGfn(inv.seq(), both)).as("%s: a new invalidation's range is its own", order).isFalse();
            assertThat(inv.retryGfn(inv.seq(), outside)).as(order).isTrue();
            inv.end();
        }
    }
}
