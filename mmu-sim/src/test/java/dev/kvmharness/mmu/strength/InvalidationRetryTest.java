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
}
