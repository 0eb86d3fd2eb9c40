// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.KvmMmuPage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * handle_removed_pt() tears a disconnected table down recursively: every table below it is unlinked (off
 * tdp_mmu_pages), every leaf below it uncounted from pages_4k, and every table freed after the grace period.
 * Checked directly here, not only through the flush counts a missed table would also change.
 */
class RemovedTableTeardownTest {
    @Test
    void zappingARootTearsDownEveryTableBelowIt() {
        // One pass over the root's entries (5.18's root zap, before it went level by level): removing the top
        // entry disconnects the whole subtree at once, so only handle_removed_pt()'s recursion reaches the rest.
        try (MmuWorld w = new MmuWorld(31, SimConfig.defaults().withPolicy(Policy.parse("current,-multi_pass_root_zap")), 1, new MmuWorld.Layout(MmuWorld.SLOT1_GPA, MmuWorld.SLOT1_SIZE >>> 12,
                0, 0, Backing.ANON, false))) {
            // One 4K page in each of the slot's four 2 MiB regions: a PDPT and a PD below the root, four PTs below that.
            for (int region = 0; region < 4; region++) {
                assertThat(Guest.write(w, 0, MmuWorld.SLOT1_GPA + region * (2L << 20), region)).isNull();
            }
            KvmMmuPage root = w.vcpus.get(0).root();
            List<KvmMmuPage> tables = new ArrayList<>();
            collect(w, root, tables);
            assertThat(tables).as("the tables below the root").hasSize(6);
            assertThat(w.kvm.tdpMmu().tdpMmuPages()).isEqualTo(6);
            assertThat(w.kvm.stats().pages[Spte.PG_LEVEL_4K]).isEqualTo(4);
            // Deleting the slot with the zap-all quirk invalidates the root; its zap removes the PDPT entry's subtree.
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, 0, w.slot1Gpa, 0, w.hva1));
            w.kvm.rcu().barrier();
            assertThat(w.kvm.tdpMmu().tdpMmuPages()).as("tables still linked after the zap (tdp_mmu_pages)").isZero();
            assertThat(w.kvm.stats().pages[Spte.PG_LEVEL_4K]).as("leafs below removed tables still counted in pages_4k").isZero();
            assertThat(tables).as("tables not freed after the grace period").allMatch(KvmMmuPage::isFreed);
        }
    }

    private static void collect(MmuWorld w, KvmMmuPage table, List<KvmMmuPage> out) {
        if (table.level() == Spte.PG_LEVEL_4K) {
            return;
        }
        for (int i = 0; i < Spte.PT_ENTRIES; i++) {
            long spte = table.spte(i);
            if (Spte.isPresent(spte) && !Spte.isLastLevel(spte, table.level())) {
                KvmMmuPage child = w.kvm.tdpMmu().tables().get((int) Spte.pfn(spte));
                out.add(child);
                collect(w, child, out);
            }
        }
    }
}
