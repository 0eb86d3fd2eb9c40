// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.tlb.Tlb;
import org.junit.jupiter.api.Test;

/**
 * The TLB is a direct-mapped cache: more guest pages than entries means pages share a set, and a hit must be
 * the page asked for. A lookup that does not compare the tag hands a guest access another page's host frame.
 */
class TlbAliasingTest {
    @Test
    void aHitIsAlwaysThePageLookedUp() {
        Tlb tlb = new Tlb(64);
        for (long page = 0; page < 1024; page++) {
            tlb.fill(page, page, 0x1000 + page, (page & 1) != 0);
            for (long other = Math.max(0, page - 200); other <= page; other++) {
                int s = tlb.lookup(other);
                if (s >= 0) {
                    assertThat(tlb.gvaPage(s)).as("TLB lookup of gva page 0x%x hit the entry of page 0x%x: the tag was not"
                            + " compared", other, tlb.gvaPage(s)).isEqualTo(other);
                    assertThat(tlb.pfn(s)).as("pfn cached for gva page 0x%x", other).isEqualTo(0x1000 + other);
                }
            }
            assertThat(tlb.lookup(page)).as("the page just filled hits").isNotNegative();
        }
    }

    /** More pages than TLB entries, each written through the guest: every write must land in its own page. */
    @Test
    void guestWritesToPagesSharingATlbSetLandInTheirOwnPages() {
        try (MmuWorld w = new MmuWorld(5, SimConfig.defaults(), 1)) {
            int pages = (int) (MmuWorld.SLOT1_SIZE >>> 12);
            assertThat(pages).isGreaterThan(w.vcpus.get(0).tlb().capacity() / 2);
            for (int round = 0; round < 2; round++) {
                for (int p = 0; p < pages; p++) {
                    long gpa = MmuWorld.SLOT1_GPA + ((long) p << 12);
                    assertThat(Guest.write(w, 0, gpa, gpa + round)).isNull();
                }
            }
            for (int p = 0; p < pages; p++) {
                long gpa = MmuWorld.SLOT1_GPA + ((long) p << 12);
                long host = w.mm.read(w.hva1 + ((long) p << 12), 8);
                assertThat(host).as("slot 1 page %d: the guest wrote 0x%x there but host memory holds 0x%x; a TLB hit"
                        + " used another page's translation", p, gpa + 1, host).isEqualTo(gpa + 1);
            }
            assertThat(w.oracle.violations()).isEmpty();
        }
    }
}
