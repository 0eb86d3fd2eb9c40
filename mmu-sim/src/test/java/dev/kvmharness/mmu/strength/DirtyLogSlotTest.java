// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.model.MmuWorld;
import org.junit.jupiter.api.Test;

/**
 * KVM_GET_DIRTY_LOG reports the slot it is asked for: with two slots logged, a guest write to one shows in its
 * bitmap and in no other slot's.
 */
class DirtyLogSlotTest {
    @Test
    void eachSlotsBitmapHoldsItsOwnWrites() {
        try (MmuWorld w = new MmuWorld(37, SimConfig.defaults(), 1)) {
            w.slot1Flags = Memslot.KVM_MEM_LOG_DIRTY_PAGES;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, w.slot1Flags, w.slot1Gpa, w.slot1Pages << 12, w.hva1));
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, Memslot.KVM_MEM_LOG_DIRTY_PAGES | w.slot2Flags, MmuWorld.SLOT2_GPA,
                    MmuWorld.SLOT2_SIZE, w.hva2));
            assertThat(Guest.write(w, 0, MmuWorld.SLOT1_GPA + 3 * 4096, 1)).isNull();
            assertThat(Guest.write(w, 0, MmuWorld.SLOT2_GPA + 5 * 4096, 2)).isNull();
            long[] one = w.dirtyLog.get(MmuWorld.SLOT1);
            long[] two = w.dirtyLog.get(MmuWorld.SLOT2);
            assertThat(one[0]).as("slot 1's bitmap: its own page 3, nothing of slot 2's").isEqualTo(1L << 3);
            assertThat(two[0]).as("slot 2's bitmap: its own page 5, nothing of slot 1's").isEqualTo(1L << 5);
            assertThat(w.dirtyLog.get(MmuWorld.SLOT1)[0]).as("harvested: slot 1's bitmap is clean again").isZero();
        }
    }
}
