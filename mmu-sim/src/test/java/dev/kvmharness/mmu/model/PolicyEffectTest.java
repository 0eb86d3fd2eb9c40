// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.policy.Policy;
import org.junit.jupiter.api.Test;

/**
 * What the seed series changed, measured on the model: the same operations under {@code legacy} and
 * {@code current}, counting remote TLB flush requests where KVM counts them (spec section 14).
 */
class PolicyEffectTest {
    private static MmuWorld world(Policy p) {
        return new MmuWorld(1, SimConfig.defaults().withPolicy(p).withYieldEvery(0), 2);
    }

    /** Touch every 4K page of slot 2 from both vCPUs (slot 2 is 4K-backed, so one table per 2 MiB). */
    private static void touchSlot2(MmuWorld w) {
        for (int v = 0; v < 2; v++) {
            for (long off = 0; off < MmuWorld.SLOT2_SIZE; off += 4096) {
                w.access(v, MmuWorld.SLOT2_GPA + off, true, false);
            }
        }
    }

    private static long requests(MmuWorld w) {
        return w.kvm.stats().remoteTlbFlushRequests;
    }

    @Test
    void unmappingAWholeTableFlushesOnceNowAndTwiceBefore() {
        long[] delta = new long[2];
        Policy[] policies = {Policy.current(), Policy.legacy()};
        for (int i = 0; i < 2; i++) {
            try (MmuWorld w = world(policies[i])) {
                touchSlot2(w);
                long before = requests(w);
                w.mm.madviseDontneed(w.hva2, MmuWorld.SLOT2_SIZE);
                delta[i] = requests(w) - before;
                assertThat(w.oracle.violations()).isEmpty();
                assertThat(w.kvm.stats().pages[1]).isZero();
            }
        }
        // Current: leafs only, one flush_on_ret. Legacy: the 4K table inside the range went too, with its own flush.
        assertThat(delta[0]).isEqualTo(1);
        assertThat(delta[1]).isEqualTo(2);
    }

    @Test
    void deletingAMemslotZapsEveryRootWithoutARemoteFlushNow() {
        long[] delta = new long[2];
        Policy[] policies = {Policy.current(), Policy.legacy()};
        for (int i = 0; i < 2; i++) {
            try (MmuWorld w = world(policies[i])) {
                touchSlot2(w);
                long before = requests(w);
                w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, MmuWorld.SLOT2_GPA, 0, w.hva2));
                delta[i] = requests(w) - before;
                assertThat(w.oracle.violations()).isEmpty();
            }
        }
        assertThat(delta[0]).as("current: fast zap, vCPUs flush locally on the new root").isZero();
        assertThat(delta[1]).as("legacy: freeze+flush per top-level entry and one per freed table").isPositive();
    }

    @Test
    void pageStatsFollowMappingsAndZaps() {
        try (MmuWorld w = world(Policy.current())) {
            touchSlot2(w);
            assertThat(w.kvm.stats().pages[1]).isEqualTo(MmuWorld.SLOT2_SIZE >>> 12);
            w.access(0, MmuWorld.SLOT1_GPA, false, false);
            assertThat(w.kvm.stats().pages[2]).as("THP-backed, 2M-aligned slot 1 maps huge").isEqualTo(1);
            assertThat(w.oracle.checkPageStats()).isNull();
            w.kvm.zapGfnRange(MmuWorld.SLOT1_GPA >>> 12, (MmuWorld.SLOT1_GPA >>> 12) + 1);
            assertThat(w.kvm.stats().pages[2]).as("a leaf zap takes the whole overlapping huge page").isZero();
            assertThat(w.oracle.checkPageStats()).isNull();
        }
    }

    @Test
    void theVcpuInGuestModeIsKickedAndCountsAFlush() {
        try (MmuWorld w = world(Policy.current())) {
            touchSlot2(w);
            long vcpuFlushes = w.vcpus.get(1).stats().tlbFlush;
            w.kvm.zapGfnRange(MmuWorld.SLOT2_GPA >>> 12, (MmuWorld.SLOT2_GPA >>> 12) + 512);
            // Nobody was in guest mode: a request, but no IPI, so remote_tlb_flush does not move.
            assertThat(w.kvm.stats().remoteTlbFlush).isZero();
            assertThat(w.kvm.stats().remoteTlbFlushRequests).isEqualTo(1);
            w.access(1, MmuWorld.SLOT2_GPA, false, false);
            assertThat(w.vcpus.get(1).stats().tlbFlush).as("serviced at the next entry").isEqualTo(vcpuFlushes + 1);
        }
    }

    /**
     * #13: a notifier that overlaps no memslot takes no lock and bumps no sequence; before the 5.13
     * consolidation (which legacy already has) it did both.
     */
    @Test
    void notifierOutsideAnyMemslotIsElided() {
        Policy[] policies = {Policy.current(), Policy.parse("current,-notifier_lock_elision")};
        long[] seqDelta = new long[2];
        long[] lockDelta = new long[2];
        for (int i = 0; i < 2; i++) {
            try (MmuWorld w = world(policies[i])) {
                long other = w.mm.mmap(2L << 20, dev.kvmharness.mmu.host.Backing.ANON);
                w.mm.write(other, 8, 1);
                long seq = w.kvm.invalidate().seq();
                long locks = w.kvm.mmuLock().acquisitions();
                w.mm.madviseDontneed(other, 2L << 20);
                seqDelta[i] = w.kvm.invalidate().seq() - seq;
                lockDelta[i] = w.kvm.mmuLock().acquisitions() - locks;
            }
        }
        assertThat(seqDelta[0]).isZero();
        assertThat(lockDelta[0]).isZero();
        assertThat(seqDelta[1]).isEqualTo(1);
        assertThat(lockDelta[1]).isEqualTo(2);
    }
}
