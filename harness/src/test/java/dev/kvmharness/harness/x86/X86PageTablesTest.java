// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class X86PageTablesTest {
    private static final long TABLES = 0x10_0000;
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;
    private static final long G1 = 1L << 30;

    private final MapMemory mem = new MapMemory(TABLES);

    private X86PageTables tables(int levels) {
        return new X86PageTables(mem, mem::allocPage, levels);
    }

    @Test
    void rootIsTheFirstAllocatedPage() {
        X86PageTables pt = tables(4);
        assertThat(pt.cr3()).isEqualTo(TABLES);
        assertThat(pt.tablePages()).isEqualTo(1);
        assertThat(pt.virtualAddressBits()).isEqualTo(48);
        assertThat(tables(5).virtualAddressBits()).isEqualTo(57);
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5})
    void mapsAndTranslatesEachPageSize(int levels) {
        X86PageTables pt = tables(levels);
        pt.map(0x40_0000_1000L, 0x1234_5000L, PageSize.SIZE_4K);
        pt.map(0x7f_0000_0000L + M2 * 3, 0x8_0000_0000L + M2 * 5, PageSize.SIZE_2M);
        pt.map(G1 * 7, G1 * 9, PageSize.SIZE_1G);

        assertThat(pt.translate(0x40_0000_1000L)).hasValue(0x1234_5000L);
        assertThat(pt.translate(0x40_0000_1abcL)).hasValue(0x1234_5abcL);
        assertThat(pt.translate(0x40_0000_0fffL)).isEmpty();
        assertThat(pt.translate(0x40_0000_2000L)).isEmpty();

        long twoM = 0x7f_0000_0000L + M2 * 3;
        assertThat(pt.translate(twoM + 0x1f_fff8)).hasValue(0x8_0000_0000L + M2 * 5 + 0x1f_fff8);
        assertThat(pt.translate(twoM + M2)).isEmpty();
        assertThat(pt.walk(twoM + 0x1234)).map(Translation::size).hasValue(PageSize.SIZE_2M);

        assertThat(pt.translate(G1 * 7 + 0x3fff_ffffL)).hasValue(G1 * 9 + 0x3fff_ffffL);
        assertThat(pt.walk(G1 * 7)).map(Translation::size).hasValue(PageSize.SIZE_1G);
        assertThat(pt.translate(G1 * 8)).isEmpty();
    }

    @Test
    void entriesArePresentWritableAndLargeLeavesSetPs() {
        X86PageTables pt = tables(4);
        pt.map(0, 0x20_0000, PageSize.SIZE_2M);
        long pml4e = mem.read64(pt.cr3());
        assertThat(pml4e & 0xfff).isEqualTo(X86PageTables.PTE_PRESENT | X86PageTables.PTE_WRITABLE);
        long pdpte = mem.read64(pml4e & X86PageTables.PTE_ADDR_MASK);
        assertThat(pdpte & 0xfff).isEqualTo(0x3);
        long pdeGpa = pdpte & X86PageTables.PTE_ADDR_MASK;
        assertThat(mem.read64(pdeGpa)).isEqualTo(0x20_0000L | 0x83);
        assertThat(pt.walk(0x1000)).contains(new Translation(0x20_1000, PageSize.SIZE_2M, pdeGpa));

        pt.map(0x4000_0000L, 0x7000, PageSize.SIZE_4K);
        Optional<Translation> leaf = pt.walk(0x4000_0000L);
        assertThat(leaf).isPresent();
        assertThat(mem.read64(leaf.get().entryGpa())).isEqualTo(0x7000L | 0x3);
        // no user, no NX, nothing above bit 51
        for (long e : mem.words.values()) {
            assertThat(e & ~(X86PageTables.PTE_ADDR_MASK | 0x83)).isZero();
        }
    }

    @Test
    void fiveLevelTablesReachBeyondFourLevelVirtualAddresses() {
        long high = 0x0080_0000_0000_0000L; // bit 55: canonical only with 57-bit addresses
        X86PageTables five = tables(5);
        five.map(high, 0x5000, PageSize.SIZE_4K);
        assertThat(five.translate(high + 8)).hasValue(0x5008);
        assertThat(five.tablePages()).isEqualTo(5);

        X86PageTables four = tables(4);
        assertThat(four.isCanonical(high)).isFalse();
        assertThatThrownBy(() -> four.map(high, 0x5000, PageSize.SIZE_4K))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not canonical");
        assertThat(four.translate(high)).isEmpty();
    }

    @Test
    void upperHalfCanonicalAddressesMap() {
        X86PageTables pt = tables(4);
        long kernel = 0xffff_8000_0000_0000L;
        pt.map(kernel, 0x9000, PageSize.SIZE_4K);
        assertThat(pt.translate(kernel + 0x10)).hasValue(0x9010);
        assertThat(mem.read64(pt.cr3() + 256 * 8) & 1).isEqualTo(1);
        assertThat(pt.translate(0x0000_8000_0000_0000L)).isEmpty();
    }

    @Test
    void physicalAddressesUpTo52Bits() {
        X86PageTables pt = tables(4);
        long top = (1L << 52) - G1;
        pt.map(0, top, PageSize.SIZE_1G);
        assertThat(pt.translate(0x123)).hasValue(top + 0x123);
        assertThatThrownBy(() -> pt.map(G1, 1L << 52, PageSize.SIZE_1G))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("52-bit");
    }

    @Test
    void misalignedAddressesAreRejected() {
        X86PageTables pt = tables(4);
        assertThatThrownBy(() -> pt.map(0x1000, 0x1000, PageSize.SIZE_2M))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alignment");
        assertThatThrownBy(() -> pt.map(M2, 0x1000, PageSize.SIZE_2M))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alignment");
        assertThatThrownBy(() -> pt.map(M2, M2, PageSize.SIZE_1G))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alignment");
        assertThatThrownBy(() -> pt.map(0x10, 0x1000, PageSize.SIZE_4K))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alignment");
        assertThat(pt.tablePages()).isEqualTo(1);
    }

    @Test
    void presentMappingsAreNeverOverwritten() {
        X86PageTables pt = tables(4);
        pt.map(0x5000, 0x5000, PageSize.SIZE_4K);
        assertThatThrownBy(() -> pt.map(0x5000, 0x6000, PageSize.SIZE_4K))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already mapped to gpa 0x5000");
        // a 2M page over existing 4K pages
        assertThatThrownBy(() -> pt.map(0, 0, PageSize.SIZE_2M))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("smaller pages");

        pt.map(M2, M2, PageSize.SIZE_2M);
        // a 4K page inside an existing 2M page
        assertThatThrownBy(() -> pt.map(M2 + 0x3000, 0x3000, PageSize.SIZE_4K))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("inside a SIZE_2M page");
        // a 1G page over existing 2M pages
        assertThatThrownBy(() -> pt.map(0, 0, PageSize.SIZE_1G))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("smaller pages");

        pt.map(G1, G1, PageSize.SIZE_1G);
        assertThatThrownBy(() -> pt.map(G1 + M2, 0, PageSize.SIZE_2M))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("inside a SIZE_1G page");
        assertThatThrownBy(() -> pt.map(G1, 0, PageSize.SIZE_1G))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already mapped");
        assertThat(pt.translate(G1 + M2)).hasValue(G1 + M2);
    }

    @Test
    void mapRangeStopsAtAMappedPageInsideATableWithThePagesBeforeItMapped() {
        X86PageTables pt = tables(4);
        pt.map(0x7000, 0x9_9000, PageSize.SIZE_4K);
        assertThatThrownBy(() -> pt.mapRange(0x1000, 0x10_1000, 0x10000, PageSize.SIZE_4K))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot map SIZE_4K at gva 0x7000: already mapped to gpa 0x99000");
        for (long gva = 0x1000; gva < 0x7000; gva += 0x1000) {
            assertThat(pt.translate(gva)).as("gva 0x%x, before the mapped page", gva).hasValue(0x10_0000 + gva);
        }
        assertThat(pt.translate(0x7000)).as("the page that was mapped already").hasValue(0x9_9000);
        assertThat(pt.translate(0x8000)).as("after it: not atomic, but nothing past the failure").isEmpty();
    }

    @Test
    void mapRangeWritesTheSameEntriesAsOneMapPerPage() {
        // 3 MiB + 12 KiB from 1 MiB - 4 KiB: 4K pages up to 2 MiB, a 2M page, then 4K pages again
        long gva = M2 / 2 - 0x1000;
        long bytes = M2 + M2 / 2 + 0x3000;
        MapMemory ranged = new MapMemory(1L << 40);
        new X86PageTables(ranged, ranged::allocPage, 4).mapRange(gva, gva, bytes, PageSize.SIZE_2M);
        MapMemory paged = new MapMemory(1L << 40);
        X86PageTables pt = new X86PageTables(paged, paged::allocPage, 4);
        for (long off = 0; off < bytes;) {
            PageSize size = PageSize.SIZE_2M.aligns(gva + off) && bytes - off >= M2 ? PageSize.SIZE_2M : PageSize.SIZE_4K;
            pt.map(gva + off, gva + off, size);
            off += size.bytes();
        }
        assertThat(ranged.words).isEqualTo(paged.words);
    }

    @Test
    void mapRangeUsesTheLargestPageAlignmentAndLengthAllow() {
        X86PageTables pt = tables(4);
        pt.mapRange(0x1f_f000, 0x1f_f000, 0x40_2000, PageSize.SIZE_1G);
        assertThat(leaves(pt, 0x1f_f000, 0x40_2000)).containsExactly(
                "1ff000:SIZE_4K", "200000:SIZE_2M", "400000:SIZE_2M", "600000:SIZE_4K");
    }

    @Test
    void mapRangeUsesGigabytePagesOnlyWhenAllowed() {
        X86PageTables big = tables(4);
        big.mapRange(G1, 2 * G1, G1 + M2 + K4, PageSize.SIZE_1G);
        assertThat(leaves(big, G1, G1 + M2 + K4)).containsExactly(
                "40000000:SIZE_1G", "80000000:SIZE_2M", "80200000:SIZE_4K");
        assertThat(big.translate(G1 + 0x1234_5678)).hasValue(2 * G1 + 0x1234_5678);

        X86PageTables capped = tables(4);
        capped.mapRange(G1, 2 * G1, G1, PageSize.SIZE_2M);
        assertThat(leaves(capped, G1, G1)).hasSize(512).allMatch(s -> s.endsWith("SIZE_2M"));
    }

    @Test
    void mapRangeFallsBackTo4kWhenAddressesDisagreeInAlignment() {
        X86PageTables pt = tables(4);
        pt.mapRange(M2, M2 + K4, M2, PageSize.SIZE_1G);
        assertThat(leaves(pt, M2, M2)).hasSize(512).allMatch(s -> s.endsWith("SIZE_4K"));
        assertThat(pt.translate(M2 + 0x10_0008)).hasValue(M2 + K4 + 0x10_0008);
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5})
    void a4kRangeAcrossPageTablesPutsEachPteInItsOwn2MTable(int levels) {
        // mapRange writes consecutive PTEs into the page table it used last: crossing a 2 MiB (and a 1 GiB)
        // boundary must move on to the next table, or pages land in the previous region's table.
        X86PageTables pt = tables(levels);
        long gva = G1 - M2 - 3 * K4;
        long bytes = 2 * M2 + 6 * K4;
        pt.mapRange(gva, 5 * G1, bytes, PageSize.SIZE_4K);
        for (long off = 0; off < bytes; off += K4) {
            assertThat(pt.translate(gva + off)).as("gva 0x%x", gva + off).hasValue(5 * G1 + off);
        }
        assertThat(pt.translate(gva - K4)).isEmpty();
        assertThat(pt.translate(gva + bytes)).isEmpty();
        // One page table per 2 MiB region touched (4 of them), two page
        // directories (either side of the 1 GiB boundary), one PDPT, and the root (plus a PML4 table with LA57).
        assertThat(pt.tablePages()).isEqualTo(4 + 2 + 1 + 1 + (levels - 4));
    }

    @Test
    void identityMapOfFourGigabytesWithGigabytePagesNeedsTwoTables() {
        X86PageTables pt = tables(4);
        pt.mapRange(0, 0, 4 * G1, PageSize.SIZE_1G);
        assertThat(pt.tablePages()).isEqualTo(2);
        assertThat(mem.allocations).isEqualTo(2);
        assertThat(pt.translate(0xdead_beefL)).hasValue(0xdead_beefL);
    }

    @Test
    void mapRangeRejectsUnalignedArguments() {
        X86PageTables pt = tables(4);
        assertThatThrownBy(() -> pt.mapRange(0x800, 0, K4, PageSize.SIZE_4K)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> pt.mapRange(0, 0x800, K4, PageSize.SIZE_4K)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> pt.mapRange(0, 0, 100, PageSize.SIZE_4K)).isInstanceOf(IllegalArgumentException.class);
        pt.mapRange(0, 0, 0, PageSize.SIZE_1G);
        assertThat(pt.tablePages()).isEqualTo(1);
    }

    @Test
    void newTablesAreClearedEvenIfTheAllocatorHandsOutDirtyPages() {
        for (long off = 0; off < 4 * K4; off += 8) {
            mem.write64(TABLES + off, 0xffff_ffff_ffff_ffffL);
        }
        X86PageTables pt = tables(4);
        pt.map(0, 0, PageSize.SIZE_4K);
        assertThat(pt.translate(K4)).isEmpty();
        assertThat(pt.translate(G1 * 5)).isEmpty();
    }

    @Test
    void badAllocatorsAndLevelCountsAreRejected() {
        assertThatThrownBy(() -> new X86PageTables(mem, () -> 0x1234, 4)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new X86PageTables(mem, mem::allocPage, 3)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pageSizes() {
        assertThat(PageSize.SIZE_4K.bytes()).isEqualTo(K4);
        assertThat(PageSize.SIZE_2M.bytes()).isEqualTo(M2);
        assertThat(PageSize.SIZE_1G.bytes()).isEqualTo(G1);
        assertThat(PageSize.SIZE_2M.shift()).isEqualTo(21);
        assertThat(PageSize.SIZE_1G.level()).isEqualTo(3);
        assertThat(PageSize.ofLevel(2)).isEqualTo(PageSize.SIZE_2M);
        assertThat(X86PageTables.index(0xffff_ffff_ffff_f000L, 4)).isEqualTo(511);
        assertThat(X86PageTables.index(G1 * 3 + M2 * 2 + K4, 3)).isEqualTo(3);
        assertThat(X86PageTables.index(G1 * 3 + M2 * 2 + K4, 2)).isEqualTo(2);
        assertThat(X86PageTables.index(G1 * 3 + M2 * 2 + K4, 1)).isEqualTo(1);
    }

    /** "gva:size" of each leaf covering [gva, gva+bytes), walking leaf by leaf. */
    private static List<String> leaves(X86PageTables pt, long gva, long bytes) {
        List<String> out = new ArrayList<>();
        long at = gva;
        while (at < gva + bytes) {
            Translation t = pt.walk(at).orElseThrow(() -> new AssertionError("hole"));
            out.add(Long.toHexString(at) + ":" + t.size());
            at += t.size().bytes();
        }
        return out;
    }
}
