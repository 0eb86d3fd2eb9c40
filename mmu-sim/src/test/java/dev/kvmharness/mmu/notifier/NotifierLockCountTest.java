// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.notifier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.policy.Policy;
import org.junit.jupiter.api.Test;

/**
 * The notifier's callback counters (seed 001): every invalidate_range_start/end reaching
 * __kvm_handle_hva_range() is counted, and those that took mmu_lock separately, so lock elision can be measured.
 */
class NotifierLockCountTest {
    private static MmuWorld world(String policy) {
        return new MmuWorld(1, SimConfig.defaults().withPolicy(Policy.parse(policy)), 1);
    }

    @Test
    void withElisionOnlyARangeOverlappingAMemslotTakesTheLock() {
        try (MmuWorld w = world("current")) {
            long outside = w.mm.mmap(2L << 20, Backing.ANON);
            KvmMmuNotifier n = w.kvm.notifier();
            w.mm.madviseDontneed(outside, 2L << 20);
            assertThat(n.callbacks()).as("start and end of the pair outside every memslot").isEqualTo(2);
            assertThat(n.lockedCallbacks()).as("elided: no memslot overlaps").isZero();
            w.mm.madviseDontneed(w.hva2, 4096);
            assertThat(n.callbacks()).isEqualTo(4);
            assertThat(n.lockedCallbacks()).as("the pair over slot 2 takes mmu_lock twice").isEqualTo(2);
        }
    }

    @Test
    void withoutElisionEveryCallbackTakesTheLock() {
        try (MmuWorld w = world("legacy,-notifier_lock_elision")) {
            long outside = w.mm.mmap(2L << 20, Backing.ANON);
            w.mm.madviseDontneed(outside, 2L << 20);
            w.mm.munmap(outside, 2L << 20);
            assertThat(w.kvm.notifier().callbacks()).as("MADV_DONTNEED and munmap: a start and an end each").isEqualTo(4);
            assertThat(w.kvm.notifier().lockedCallbacks())
                    .as("without elision every callback takes mmu_lock, overlapping no memslot as well").isEqualTo(4);
        }
    }
}
