// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.spte.Spte;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The walk order tdp_iter.c defines, on hand-built tables. */
class TdpIterTest {
    private final SpTable tables = new SpTable();

    /** A 4-level root with one 4K table under gfn 0x200..0x3ff and a 2M leaf at gfn 0x400. */
    private KvmMmuPage build() {
        KvmMmuPage root = tables.alloc(4, 0, 0, Spte.NONPRESENT);
        KvmMmuPage l3 = tables.alloc(3, 0, 0, Spte.NONPRESENT);
        KvmMmuPage l2 = tables.alloc(2, 0, 0, Spte.NONPRESENT);
        KvmMmuPage l1 = tables.alloc(1, 0, 0x200, Spte.NONPRESENT);
        root.spt[0] = Spte.makeNonLeaf(l3.id);
        l3.spt[0] = Spte.makeNonLeaf(l2.id);
        l2.spt[1] = Spte.makeNonLeaf(l1.id);
        l2.spt[2] = Spte.makeLeaf(0x9000, 2, true, true, true, false);
        l1.spt[5] = Spte.makeLeaf(0x777, 1, true, true, true, false);
        return root;
    }

    private List<String> visit(KvmMmuPage root, int minLevel, long start, long end) {
        List<String> seen = new ArrayList<>();
        for (TdpIter it = new TdpIter(tables, root, minLevel, start, end); it.hasCurrent(); it.next()) {
            if (Spte.isPresent(it.oldSpte())) {
                seen.add("L" + it.level() + "@0x" + Long.toHexString(it.gfn()));
            }
        }
        return seen;
    }

    @Test
    void preOrderVisitsTablesThenTheirEntries() {
        assertThat(visit(build(), 1, 0, 0x600))
                .containsExactly("L4@0x0", "L3@0x0", "L2@0x200", "L1@0x205", "L2@0x400");
    }

    @Test
    void upperEntriesOverlappingTheStartAreVisited() {
        // The 2M leaf starts at 0x400 but a range starting inside it still sees it: a leaf zap takes it whole.
        assertThat(visit(build(), 1, 0x450, 0x460)).containsExactly("L4@0x0", "L3@0x0", "L2@0x400");
    }

    @Test
    void minLevelStopsTheDescent() {
        assertThat(visit(build(), 2, 0, 0x600)).containsExactly("L4@0x0", "L3@0x0", "L2@0x200", "L2@0x400");
    }

    @Test
    void aYieldRestartsFromTheRootAtTheGoal() {
        KvmMmuPage root = build();
        TdpIter it = new TdpIter(tables, root, 1, 0x205, 0x600);
        while (it.hasCurrent() && !(it.level() == 1 && it.gfn() == 0x205)) {
            it.next();
        }
        assertThat(it.madeProgress()).isFalse();
        it.next();
        assertThat(it.madeProgress()).isTrue();
        it.markYielded();
        it.next();
        assertThat(it.level()).isEqualTo(4);
        assertThat(it.gfn()).isEqualTo(0);
        assertThat(it.madeProgress()).isFalse();
    }
}
