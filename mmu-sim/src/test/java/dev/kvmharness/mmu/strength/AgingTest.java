// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.model.MmuWorld;
import org.junit.jupiter.api.Test;

/**
 * Page aging through the MMU notifier (clear_flush_young, clear_young, test_young): a page the guest used is
 * young once, and old after the aging pass cleared it until the guest uses it again. If KVM reported young
 * without clearing the Accessed bit, reclaim would see every guest page as hot forever.
 */
class AgingTest {
    @Test
    void agingClearsWhatItReportsAndTheNextGuestAccessSetsItAgain() {
        try (MmuWorld w = new MmuWorld(17, SimConfig.defaults(), 1)) {
            long start = w.hva1;
            long end = w.hva1 + MmuWorld.SLOT1_SIZE;
            assertThat(Guest.read(w, 0, MmuWorld.SLOT1_GPA + 5 * 4096, new long[1])).isNull();
            assertThat(w.mm.ageRange(start, end)).as("the guest just read slot 1: young").isTrue();
            assertThat(w.mm.testYoung(start + 5 * 4096))
                    .as("test_young right after clear_flush_young: the Accessed bits KVM reported must have been cleared")
                    .isFalse();
            assertThat(w.mm.ageRange(start, end))
                    .as("a second clear_flush_young with no guest access in between reported young again: the first"
                            + " did not clear the SPTE's Accessed bit")
                    .isFalse();
            assertThat(w.mm.clearYoungRange(start, end)).as("clear_young with no access since").isFalse();
            assertThat(Guest.read(w, 0, MmuWorld.SLOT1_GPA + 5 * 4096, new long[1])).isNull();
            assertThat(w.mm.testYoung(start + 5 * 4096)).as("the guest's access after the flush set Accessed again").isTrue();
            assertThat(w.mm.clearYoungRange(start, end)).isTrue();
            assertThat(w.mm.clearYoungRange(start, end)).as("clear_young cleared what it reported").isFalse();
        }
    }
}
