// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.spte.Spte;
import java.util.Arrays;

/**
 * The primary MMU's page tables of one mm: x86-64 4-level paging, {@code pgd -> pud -> pmd -> pte}, for user
 * addresses below 2^47. A PUD entry may be a 1 GiB leaf (hugetlb), a PMD entry a 2 MiB leaf (THP or hugetlb),
 * otherwise a {@link PteTable}. Huge leaves are encoded like hardware entries: {@code pfn << 12 | flags}.
 * Directory tables are dropped when they empty; PTE tables only when munmap says so
 * ({@code free_pgtables}), because an empty PTE table still stops a THP from being mapped there.
 *
 * <p>Every operation on an address descends with one {@link PageWalk}; the allocating descent of an update
 * is {@link #pudAlloc} / {@link #pmdAlloc}.
 */
final class HostPageTable {
    /** {@code PG_LEVEL_NONE}: nothing maps the address. */
    static final int PG_LEVEL_NONE = 0;
    /** {@code enum pg_level} of the leaves, the values KVM's {@code host_pfn_mapping_level()} compares. */
    static final int PG_LEVEL_4K = Spte.PG_LEVEL_4K;
    static final int PG_LEVEL_2M = Spte.PG_LEVEL_2M;
    static final int PG_LEVEL_1G = Spte.PG_LEVEL_1G;
    static final int PMD_SHIFT = 21;
    static final int PUD_SHIFT = 30;
    static final int PGD_SHIFT = 39;
    static final long PMD_SIZE = 1L << PMD_SHIFT;
    static final long PUD_SIZE = 1L << PUD_SHIFT;
    static final long PGD_SIZE = 1L << PGD_SHIFT;
    /** {@code PTRS_PER_PUD} = {@code PTRS_PER_PMD} = {@code PTRS_PER_PTE}. */
    static final int PTRS_PER_TABLE = 512;
    /** End of the user half of the address space that 4-level paging translates. */
    static final long USER_END = 1L << 47;
    /** PGD entries of the user half. */
    private static final int USER_PGD_ENTRIES = (int) (USER_END >>> PGD_SHIFT);

    private static final long PRESENT = 1L;         // _PAGE_PRESENT
    static final long ACCESSED = 1L << 5;           // _PAGE_ACCESSED
    private static final long PSE = 1L << 7;        // _PAGE_PSE
    /** Where the pfn starts in a huge leaf entry ({@code PAGE_SHIFT}, like {@code pmd_pfn()}). */
    private static final int ENTRY_PFN_SHIFT = PhysMem.PAGE_SHIFT;

    /**
     * A page directory (a PUD or PMD table): 512 entries that are huge leaves or point to the next level
     * (a PMD table from a PUD table, a {@link PteTable} from a PMD table).
     */
    static final class Dir {
        final long[] leaf = new long[PTRS_PER_TABLE];
        final Object[] next = new Object[PTRS_PER_TABLE];
        int used;
    }

    /** Top-level: the user PGD entries, each a PUD table. */
    private final Dir[] pgd = new Dir[USER_PGD_ENTRIES];
    private long pteTables;
    private long dirTables;
    /** Leaf installs so far (a PTE set, a huge leaf set, a split's new PTEs): while it stands still, no page was mapped anywhere new. */
    private long installs;

    static int index(long hva, int shift) {
        return (int) ((hva >>> shift) & (PTRS_PER_TABLE - 1));
    }

    /** {@code pte_index()}: the entry for hva in its PTE table. */
    static int pteIndex(long hva) {
        return index(hva, PhysMem.PAGE_SHIFT);
    }

    static long entryPfn(long entry) {
        return entry >>> ENTRY_PFN_SHIFT;
    }

    /** The descent for hva (see {@link PageWalk}). */
    PageWalk walk(long hva) {
        return new PageWalk(pudAt(hva), hva);
    }

    /** {@code follow_page}: the leaf mapping hva, or null if nothing maps it. */
    HostLeaf lookup(long hva) {
        return walk(hva).leaf();
    }

    /** Head pfn of the 2M leaf at hva, or -1 if the PMD entry is not a leaf. */
    long pmdLeaf(long hva) {
        return walk(hva).pmdLeafHead();
    }

    /** Whether the 2M leaf at hva has its Accessed bit set. */
    boolean pmdLeafYoung(long hva) {
        PageWalk w = walk(hva);
        return w.level == PG_LEVEL_2M && w.young();
    }

    /** The PTE table covering hva, or null. */
    PteTable pteTable(long hva) {
        return walk(hva).pte;
    }

    /**
     * Leaves installed so far ({@link #setPte}, {@link #setPmdLeaf}, {@link #setPudLeaf}, {@link #replacePmdLeaf}).
     * With {@link HostMm#mappingChanges()}, which counts removals, it tells whether any mapping of any page may
     * have appeared or gone: what {@link Rmap} indexes stays exact while both stand still.
     */
    long installs() {
        return installs;
    }

    /** {@code set_pte_at()}: maps pfn at entry i of t (which must be none). Every PTE is set here. */
    void setPte(PteTable t, int i, long pfn) {
        t.set(i, pfn);
        installs++;
    }

    /** Installs a PTE table for hva's 2M range ({@code __pte_alloc}); the PMD entry must be none. */
    PteTable installPteTable(long hva, PteTable table) {
        Dir pmd = pmdAlloc(hva);
        int mi = index(hva, PMD_SHIFT);
        requireNone("PMD", hva, pmd, mi);
        pmd.next[mi] = table;
        pmd.used++;
        pteTables++;
        return table;
    }

    /** {@code set_pmd_at()} of a huge leaf: maps the 2M folio at head; the PMD entry must be none. */
    void setPmdLeaf(long hva, long head) {
        Dir pmd = pmdAlloc(hva);
        int mi = index(hva, PMD_SHIFT);
        requireNone("PMD", hva, pmd, mi);
        pmd.leaf[mi] = head << ENTRY_PFN_SHIFT | PSE | PRESENT;
        pmd.used++;
        installs++;
    }

    /** {@code pmdp_huge_get_and_clear}: removes the 2M leaf at hva. */
    void clearPmdLeaf(long hva) {
        PageWalk w = walk(hva);
        requireLevel(w, PG_LEVEL_2M);
        w.pmd.leaf[w.pmdIndex] = 0;
        w.pmd.used--;
        dropEmpty(w);
    }

    /** Replaces the PMD leaf at hva with the given PTE table (split_huge_pmd), keeping the directory. */
    void replacePmdLeaf(long hva, PteTable table) {
        PageWalk w = walk(hva);
        requireLevel(w, PG_LEVEL_2M);
        w.pmd.leaf[w.pmdIndex] = 0;
        w.pmd.next[w.pmdIndex] = table;
        pteTables++;
        installs++;
    }

    /** {@code set_pud_at()} of a huge leaf: maps the 1G folio at head; the PUD entry must be none. */
    void setPudLeaf(long hva, long head) {
        Dir pud = pudAlloc(hva);
        int ui = index(hva, PUD_SHIFT);
        requireNone("PUD", hva, pud, ui);
        pud.leaf[ui] = head << ENTRY_PFN_SHIFT | PSE | PRESENT;
        pud.used++;
        installs++;
    }

    /** {@code pudp_huge_get_and_clear}: removes the 1G leaf at hva, and the PUD table if it empties. */
    void clearPudLeaf(long hva) {
        PageWalk w = walk(hva);
        requireLevel(w, PG_LEVEL_1G);
        w.pud.leaf[w.pudIndex] = 0;
        if (--w.pud.used == 0) {
            pgd[pgdIndex(hva)] = null;
            dirTables--;
        }
    }

    /** {@code free_pte_range}: drops the (possibly non-empty-looking, but cleared) PTE table at hva, if any. */
    void freePteTable(long hva) {
        PageWalk w = walk(hva);
        PteTable t = w.pte;
        if (t == null) {
            return;
        }
        if (t.count() != 0) {
            throw new IllegalStateException("freeing a PTE table that still maps " + t.count() + " pages");
        }
        w.pmd.next[w.pmdIndex] = null;
        w.pmd.used--;
        pteTables--;
        dropEmpty(w);
    }

    /** Receives the present leaves of a {@link #walk(long, long, LeafVisitor)}. */
    interface LeafVisitor {
        /**
         * One present leaf.
         *
         * @param hva   the leaf's first address (aligned to its size)
         * @param level the leaf's {@code enum pg_level}
         */
        void leaf(long hva, int level);
    }

    /** {@code walk_page_range}: visits every present leaf overlapping [start, end) once, in address order. */
    void walk(long start, long end, LeafVisitor v) {
        long addr = Math.max(start, 0);
        end = Math.min(end, USER_END);
        while (addr < end) {
            PageWalk w = walk(addr);
            long holeEnd = w.holeEnd();
            if (holeEnd != addr) {
                addr = holeEnd;
                continue;
            }
            if (w.level == PG_LEVEL_1G) {
                v.leaf(addr & -PUD_SIZE, PG_LEVEL_1G);
                addr = (addr | (PUD_SIZE - 1)) + 1;
                continue;
            }
            long pmdNext = (addr | (PMD_SIZE - 1)) + 1;
            if (w.level == PG_LEVEL_2M) {
                v.leaf(addr & -PMD_SIZE, PG_LEVEL_2M);
            } else if (w.pte != null) {
                for (long a = addr; a < Math.min(pmdNext, end); a += PhysMem.PAGE_SIZE) {
                    if (w.pte.isPresent(index(a, PhysMem.PAGE_SHIFT))) {
                        v.leaf(a, PG_LEVEL_4K);
                    }
                }
            }
            addr = pmdNext;
        }
    }

    /** {@code ptep_test_and_clear_young()} on every present leaf overlapping [start, end); true if any was young. */
    boolean testAndClearYoung(long start, long end) {
        final class Young implements LeafVisitor {
            boolean any;

            @Override
            public void leaf(long hva, int level) {
                any |= walk(hva).testAndClearYoung();
            }
        }
        Young young = new Young();
        walk(start, end, young);
        return young.any;
    }

    /** Rough heap bytes of all tables. */
    long bytes() {
        long bytes = 16 + 4 * USER_PGD_ENTRIES
                + dirTables * (24 + 16 + 8 * PTRS_PER_TABLE + 16 + 4 * PTRS_PER_TABLE);
        for (Dir pud : pgd) {
            if (pud == null) {
                continue;
            }
            for (Object pmdEntry : pud.next) {
                if (pmdEntry == null) {
                    continue;
                }
                for (Object pteEntry : ((Dir) pmdEntry).next) {
                    if (pteEntry != null) {
                        bytes += ((PteTable) pteEntry).bytes();
                    }
                }
            }
        }
        return bytes;
    }

    /** {@code free_pgtables()} of the whole address space at exit_mmap: drops every table. */
    void freeAll() {
        Arrays.fill(pgd, null);
        pteTables = 0;
        dirTables = 0;
    }

    long pteTableCount() {
        return pteTables;
    }

    private static int pgdIndex(long hva) {
        return (int) (hva >>> PGD_SHIFT);
    }

    private Dir pudAt(long hva) {
        return hva < 0 || hva >= USER_END ? null : pgd[pgdIndex(hva)];
    }

    /** {@code pud_alloc()}: the PUD table for hva, allocating it if the PGD entry is none. */
    private Dir pudAlloc(long hva) {
        if (hva < 0 || hva >= USER_END) {
            throw new IllegalArgumentException("0x" + Long.toHexString(hva) + " is not a user address");
        }
        int gi = pgdIndex(hva);
        if (pgd[gi] == null) {
            pgd[gi] = new Dir();
            dirTables++;
        }
        return pgd[gi];
    }

    /** {@code pmd_alloc()}: the PMD table for hva, allocating it (and its PUD table) if needed. */
    private Dir pmdAlloc(long hva) {
        Dir pud = pudAlloc(hva);
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] != 0) {
            throw new IllegalStateException("0x" + Long.toHexString(hva) + " is mapped by a 1G leaf");
        }
        Dir pmd = (Dir) pud.next[ui];
        if (pmd == null) {
            pmd = new Dir();
            pud.next[ui] = pmd;
            pud.used++;
            dirTables++;
        }
        return pmd;
    }

    private static void requireNone(String what, long hva, Dir dir, int i) {
        if (dir.leaf[i] != 0 || dir.next[i] != null) {
            throw new IllegalStateException(what + " for 0x" + Long.toHexString(hva) + " is not none");
        }
    }

    private static void requireLevel(PageWalk w, int level) {
        if (w.level != level) {
            throw new IllegalStateException("0x" + Long.toHexString(w.hva) + " is mapped at level " + w.level
                    + ", not by a level-" + level + " leaf");
        }
    }

    /** Drops the walk's PMD table if it emptied, then its PUD table if that emptied too. */
    private void dropEmpty(PageWalk w) {
        if (w.pmd.used != 0) {
            return;
        }
        w.pud.next[w.pudIndex] = null;
        dirTables--;
        if (--w.pud.used == 0) {
            pgd[pgdIndex(w.hva)] = null;
            dirTables--;
        }
    }
}
