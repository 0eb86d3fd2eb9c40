// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.oracle.Violation;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which level a fault maps at, from the memslot (kvm_mmu_hugepage_adjust with the slot's lpage_info) and the
 * host mapping (host_pfn_mapping_level): a huge SPTE needs the whole huge page inside the slot and the slot's
 * gfn and hva equally aligned modulo its size. Every test slot elsewhere is 2 MiB aligned in both, so a fault
 * path that forgets the slot would go unnoticed there.
 */
class HugePageEligibilityTest {
    private static final long PAGES_2M = 512;

    private static MmuWorld world(MmuWorld.Layout layout) {
        return new MmuWorld(1, SimConfig.defaults().withOracle(true), 1, layout);
    }

    private static List<Violation> violations(MmuWorld w) {
        return w.oracle.violations();
    }

    @Test
    void anAlignedThpSlotIsMappedWithHugePages() {
        try (MmuWorld w = world(MmuWorld.Layout.standard())) {
            w.access(0, w.slot1Gpa + 5 * 4096, true, false);
            assertThat(w.leafLevel(0, w.slot1Gpa + 5 * 4096)).as("a 2 MiB THP in an aligned slot maps as one 2M SPTE")
                    .isEqualTo(Spte.PG_LEVEL_2M);
            assertThat(violations(w)).isEmpty();
        }
    }

    @Test
    void aSlotWhoseHvaIsMisalignedToItsGpaGetsNoHugePage() {
        try (MmuWorld w = world(new MmuWorld.Layout(MmuWorld.SLOT1_GPA, 2048, 0, 1, Backing.ANON_THP, false))) {
            for (long page : new long[] {0, 5, 600, 1500}) {
                long gpa = w.slot1Gpa + page * 4096;
                w.access(0, gpa, true, false);
                assertThat(w.leafLevel(0, gpa))
                        .as("gfn 0x%x: the slot's hva is 4 KiB off its gpa modulo 2 MiB, so lpage_info disallows every"
                                + " huge page; a 2M SPTE would map the wrong host pages", gpa >>> 12)
                        .isEqualTo(Spte.PG_LEVEL_4K);
            }
            assertThat(violations(w)).isEmpty();
        }
    }

    @Test
    void thePartialHugePagesAtTheEndsOfASlotAreMapped4K() {
        // gpa and hva skewed alike by 3 pages, 2000 pages long: whole 2 MiB pages only in the middle
        try (MmuWorld w = world(new MmuWorld.Layout(MmuWorld.SLOT1_GPA, 2000, 3, 3, Backing.ANON_THP, false))) {
            long first = w.slot1Gpa;
            long middle = MmuWorld.SLOT1_GPA + 2 * PAGES_2M * 4096 + 7 * 4096;
            long last = w.slot1Gpa + (w.slot1Pages - 1) * 4096;
            for (long gpa : new long[] {first, middle, last}) {
                w.access(0, gpa, false, false);
            }
            assertThat(w.leafLevel(0, first)).as("the slot's first, partial 2 MiB page (lpage_info disallows it)")
                    .isEqualTo(Spte.PG_LEVEL_4K);
            assertThat(w.leafLevel(0, last)).as("the slot's last, partial 2 MiB page: a huge SPTE would reach past the slot")
                    .isEqualTo(Spte.PG_LEVEL_4K);
            assertThat(w.leafLevel(0, middle)).as("a whole, aligned 2 MiB page in the middle").isEqualTo(Spte.PG_LEVEL_2M);
            assertThat(violations(w)).isEmpty();
        }
    }

    @Test
    void aGigantic1GSlotIsMappedWith1GPages() {
        try (MmuWorld w = world(new MmuWorld.Layout(4L << 30, 1L << 18, 0, 0, Backing.ANON_HUGETLB_1G, false))) {
            w.access(0, w.slot1Gpa + 12345 * 4096L, true, false);
            assertThat(w.leafLevel(0, w.slot1Gpa + 12345 * 4096L)).isEqualTo(Spte.PG_LEVEL_1G);
            assertThat(violations(w)).isEmpty();
        }
    }

    @Test
    void writesToAReadOnlySlotExitToUserspaceAndReadsMapReadOnly() {
        try (MmuWorld w = world(new MmuWorld.Layout(MmuWorld.SLOT1_GPA, 2048, 0, 0, Backing.ANON_THP, true))) {
            assertThat(w.access(0, MmuWorld.SLOT2_GPA, true, false)).as("a write to read-only slot 2").isEqualTo(GuestExit.Reason.MMIO);
            assertThat(w.access(0, MmuWorld.SLOT2_GPA, false, false)).isEqualTo(GuestExit.Reason.INTR);
            EptWalk leaf = w.kvm.tdpMmu().walk(w.vcpus.get(0).root(), MmuWorld.SLOT2_GPA >>> 12);
            assertThat(Spte.isWritable(leaf.spte())).as("the SPTE of a read-only slot").isFalse();
            assertThat(violations(w)).isEmpty();
        }
    }
}
