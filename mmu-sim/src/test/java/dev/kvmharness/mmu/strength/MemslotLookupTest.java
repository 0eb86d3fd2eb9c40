// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.model.MmuWorld;
import org.junit.jupiter.api.Test;

/**
 * search_memslots() with its last-hit cache: the gfn just past a slot's end is not in the slot, however recently
 * the slot was hit. The tests' slots never have a neighbour gfn accessed, so only this test asks.
 */
class MemslotLookupTest {
    @Test
    void theGfnPastASlotsEndIsNotInTheSlotRightAfterAHit() {
        try (MmuWorld w = new MmuWorld(13, SimConfig.defaults(), 1)) {
            long last = ((MmuWorld.SLOT2_GPA + MmuWorld.SLOT2_SIZE) >>> 12) - 1;
            Memslot hit = w.kvm.memslots().lookup(0, last);
            assertThat(hit).isNotNull();
            assertThat(w.kvm.memslots().lookup(0, last + 1))
                    .as("gfn 0x%x is one past %s, yet the lookup right after a hit at gfn 0x%x returned a slot", last + 1, hit, last)
                    .isNull();
            assertThat(Guest.write(w, 0, last << 12, 1)).isNull();
            GuestExit e = Guest.read(w, 0, (last + 1) << 12, new long[1]);
            assertThat(e).as("a read of the page just past slot 2, right after an access to its last page, must exit"
                    + " as MMIO").isNotNull();
            assertThat(e.reason()).isEqualTo(GuestExit.Reason.MMIO);
        }
    }
}
