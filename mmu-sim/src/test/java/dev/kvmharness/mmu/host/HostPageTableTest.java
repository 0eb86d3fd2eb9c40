// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.spte.Spte;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The page-table walk cursor ({@link PageWalk}) and the HostPageTable operations built on it. */
class HostPageTableTest {
    private static final long PAGE = PhysMem.PAGE_SIZE;
    private static final long BASE = 0x7f00_0000_0000L;

    private final HostPageTable pt = new HostPageTable();

    @Test
    void levelsAreKvmsPgLevels() {
        // KVM compares FaultResult.mappingLevel() with its own PG_LEVEL_* values
        assertThat(HostPageTable.PG_LEVEL_4K).isEqualTo(Spte.PG_LEVEL_4K);
        assertThat(HostPageTable.PG_LEVEL_2M).isEqualTo(Spte.PG_LEVEL_2M);
        assertThat(HostPageTable.PG_LEVEL_1G).isEqualTo(Spte.PG_LEVEL_1G);
        assertThat(HostPageTable.PG_LEVEL_NONE).isLessThan(Spte.PG_LEVEL_4K);
    }

    @Test
    void emptyTableWalksToNothingAndSkipsTheWholePgdEntry() {
        PageWalk w = pt.walk(BASE + 5 * PAGE);
        assertThat(w.mapped()).isFalse();
        assertThat(w.level).isEqualTo(HostPageTable.PG_LEVEL_NONE);
        assertThat(w.pmdNone()).isTrue();
        assertThat(w.holeEnd()).isEqualTo(BASE + HostPageTable.PGD_SIZE);
        assertThat(pt.lookup(BASE)).isNull();
        assertThatThrownBy(w::pfn).hasMessageContaining("is not mapped");
    }

    @Test
    void fourKPteIsFoundWithItsPfnAndAccessedBit() {
        long hva = BASE + 3 * PAGE;
        pt.installPteTable(hva, PteTable.empty()).set(HostPageTable.index(hva, PhysMem.PAGE_SHIFT), 1000);
        PageWalk w = pt.walk(hva);
        assertThat(w.level).isEqualTo(HostPageTable.PG_LEVEL_4K);
        assertThat(w.pfn()).isEqualTo(1000);
        assertThat(pt.lookup(hva)).isEqualTo(new HostLeaf(1000, HostPageTable.PG_LEVEL_4K));
        assertThat(w.holeEnd()).as("the PUD entry is populated").isEqualTo(hva);
        assertThat(w.pmdNone()).as("a PTE table is there").isFalse();
        assertThat(pt.walk(hva + PAGE).mapped()).as("the next PTE").isFalse();
        assertThat(w.young()).isFalse();
        w.markYoung();
        assertThat(pt.walk(hva).young()).isTrue();
        assertThat(pt.walk(hva).testAndClearYoung()).isTrue();
        assertThat(pt.walk(hva).young()).isFalse();
    }

    @Test
    void hugeLeavesGiveTailPfnsAndTheirHeads() {
        long pmdLeaf = BASE + 4 * HostPageTable.PMD_SIZE;
        pt.setPmdLeaf(pmdLeaf, 0x4000);
        PageWalk w = pt.walk(pmdLeaf + 7 * PAGE + 12);
        assertThat(w.level).isEqualTo(HostPageTable.PG_LEVEL_2M);
        assertThat(w.pfn()).as("tail pfn inside a 2M leaf: head + page offset in the leaf").isEqualTo(0x4000 + 7);
        assertThat(w.pmdLeafHead()).isEqualTo(0x4000);
        assertThat(w.pudLeafHead()).isEqualTo(-1);
        assertThat(w.pmdNone()).isFalse();

        long pudLeaf = BASE + 3 * HostPageTable.PUD_SIZE;
        pt.setPudLeaf(pudLeaf, 0x80000);
        PageWalk g = pt.walk(pudLeaf + HostPageTable.PMD_SIZE + 2 * PAGE);
        assertThat(g.level).isEqualTo(HostPageTable.PG_LEVEL_1G);
        assertThat(g.pfn()).as("tail pfn inside a 1G leaf: head + page offset in the leaf").isEqualTo(0x80000 + 512 + 2);
        assertThat(g.pudLeafHead()).isEqualTo(0x80000);
        assertThat(g.pmdLeafHead()).isEqualTo(-1);
        assertThat(g.pmdNone()).as("a 1G leaf covers the PMD range").isFalse();
        assertThat(g.holeEnd()).isEqualTo(g.hva);
        assertThat(pt.walk(pudLeaf + HostPageTable.PUD_SIZE).holeEnd())
                .as("the PUD entry after the leaf is none").isEqualTo(pudLeaf + 2 * HostPageTable.PUD_SIZE);
    }

    @Test
    void clearingTheLastLeafDropsTheDirectories() {
        long empty = pt.bytes();
        long hva = BASE + 9 * HostPageTable.PMD_SIZE;
        pt.setPmdLeaf(hva, 0x2000);
        assertThat(pt.bytes()).isGreaterThan(empty);
        pt.clearPmdLeaf(hva);
        assertThat(pt.walk(hva).holeEnd()).isEqualTo(BASE + HostPageTable.PGD_SIZE);
        assertThat(pt.bytes()).isEqualTo(empty);
        assertThatThrownBy(() -> pt.clearPmdLeaf(hva)).hasMessageContaining("not by a level-2 leaf");
    }

    @Test
    void rangeWalkVisitsEveryLeafOnceInOrder() {
        long pte = BASE + HostPageTable.PMD_SIZE;
        PteTable t = pt.installPteTable(pte, PteTable.empty());
        t.set(1, 50);
        t.set(511, 60);
        pt.setPmdLeaf(BASE + 2 * HostPageTable.PMD_SIZE, 0x6000);
        pt.setPudLeaf(BASE + HostPageTable.PGD_SIZE, 0x40000);
        List<String> seen = new ArrayList<>();
        pt.walk(0, HostPageTable.USER_END, (hva, level) -> seen.add(Long.toHexString(hva) + "@" + level));
        assertThat(seen).containsExactly(
                Long.toHexString(pte + PAGE) + "@1",
                Long.toHexString(pte + 511 * PAGE) + "@1",
                Long.toHexString(BASE + 2 * HostPageTable.PMD_SIZE) + "@2",
                Long.toHexString(BASE + HostPageTable.PGD_SIZE) + "@3");
    }
}
