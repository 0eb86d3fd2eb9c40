// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.model.MmuWorld;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Deleting or moving a memslot must leave no SPTE for its old gfns, its first and last page included: a guest
 * access there is MMIO now. The stale-translation oracle cannot see this (the SPTE and the TLB still agree, and
 * the host page is alive), so these tests look at the SPTEs and at the exit the guest gets.
 */
class MemslotZapTest {
    private static final long PAGES = MmuWorld.SLOT2_SIZE >>> 12;
    private static final long OLD_GFN = MmuWorld.SLOT2_GPA >>> 12;

    private static MmuWorld world(boolean quirk) {
        return new MmuWorld(11, SimConfig.defaults().withSlotZapAllQuirk(quirk), 1);
    }

    private static void touchFirstAndLast(MmuWorld w) {
        assertThat(Guest.write(w, 0, MmuWorld.SLOT2_GPA, 0x1111)).isNull();
        assertThat(Guest.write(w, 0, MmuWorld.SLOT2_GPA + ((PAGES - 1) << 12), 0x2222)).isNull();
    }

    private static void assertOldRangeIsMmio(MmuWorld w, String what) {
        assertThat(Guest.stillMapped(w.kvm, OLD_GFN, OLD_GFN + PAGES))
                .as("after %s, no SPTE may map the slot's old gfns [0x%x, 0x%x)", what, OLD_GFN, OLD_GFN + PAGES).isNull();
        long[] v = new long[1];
        for (long page : new long[] {0, PAGES - 1}) {
            GuestExit e = Guest.read(w, 0, MmuWorld.SLOT2_GPA + (page << 12), v);
            assertThat(e).as("after %s, a read of old page %d must exit as MMIO (no memslot), but it read 0x%x from RAM",
                    what, page, v[0]).isNotNull();
            assertThat(e.reason()).isEqualTo(GuestExit.Reason.MMIO);
        }
    }

    @ParameterizedTest(name = "slot-zap-all quirk {0}")
    @ValueSource(booleans = {true, false})
    void deletingASlotUnmapsAllOfIt(boolean quirk) {
        try (MmuWorld w = world(quirk)) {
            touchFirstAndLast(w);
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, MmuWorld.SLOT2_GPA, 0, w.hva2));
            assertOldRangeIsMmio(w, "deleting slot 2 (quirk " + quirk + ")");
        }
    }

    @ParameterizedTest(name = "slot-zap-all quirk {0}")
    @ValueSource(booleans = {true, false})
    void movingASlotUnmapsItsOldGpaAndKeepsItsMemory(boolean quirk) {
        try (MmuWorld w = world(quirk)) {
            touchFirstAndLast(w);
            long to = MmuWorld.SLOT2_GPA + MmuWorld.SLOT2_SIZE;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, to, MmuWorld.SLOT2_SIZE, w.hva2));
            assertOldRangeIsMmio(w, "moving slot 2 (quirk " + quirk + ")");
            long[] v = new long[1];
            assertThat(Guest.read(w, 0, to + ((PAGES - 1) << 12), v)).isNull();
            assertThat(v[0]).as("the moved slot's memory is the same host memory").isEqualTo(0x2222);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }
}
