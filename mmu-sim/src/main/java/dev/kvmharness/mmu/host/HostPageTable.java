// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * The primary MMU's page tables of one mm: x86-64 4-level paging, {@code pgd -> pud -> pmd -> pte}, for user
 * addresses below 2^47. A PUD entry may be a 1 GiB leaf (hugetlb), a PMD entry a 2 MiB leaf (THP or hugetlb),
 * otherwise a {@link PteTable}. Huge leaves are encoded like hardware entries: {@code pfn << 12 | flags}.
 * Directory tables are dropped when they empty; PTE tables only when munmap says so
 * ({@code free_pgtables}), because an empty PTE table still stops a THP from being mapped there.
 */
final class HostPageTable {
    static final int LEVEL_4K = 1;
    static final int LEVEL_2M = 2;
    static final int LEVEL_1G = 3;
    static final int PMD_SHIFT = 21;
    static final int PUD_SHIFT = 30;
    static final int PGD_SHIFT = 39;
    static final long PMD_SIZE = 1L << PMD_SHIFT;
    static final long PUD_SIZE = 1L << PUD_SHIFT;
    static final long PGD_SIZE = 1L << PGD_SHIFT;
    /** End of the user half of the address space that 4-level paging translates. */
    static final long USER_END = 1L << 47;
    /** lookup(): nothing maps the address. */
    static final long NOT_MAPPED = -1;

    private static final long PRESENT = 1L;         // _PAGE_PRESENT
    private static final long ACCESSED = 1L << 5;   // _PAGE_ACCESSED
    private static final long PSE = 1L << 7;        // _PAGE_PSE

    /** A page directory: 512 entries that are huge leaves or point to the next level. */
    private static final class Dir<T> {
        final long[] leaf = new long[512];
        final Object[] next = new Object[512];
        int used;

        @SuppressWarnings("unchecked")
        T child(int i) {
            return (T) next[i];
        }
    }

    /** Top-level: 256 user PGD entries, each a PUD table. */
    @SuppressWarnings({"unchecked", "rawtypes"}) // no generic array creation in Java
    private final Dir<Dir<PteTable>>[] pgd = new Dir[256];
    private long pteTables;
    private long dirTables;

    private static int index(long hva, int shift) {
        return (int) ((hva >>> shift) & 511);
    }

    /** {@code follow_page}: (pfn of the 4K page at hva) {@code << 2 | level}, or {@link #NOT_MAPPED}. */
    long lookup(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return NOT_MAPPED;
        }
        int ui = index(hva, PUD_SHIFT);
        long e = pud.leaf[ui];
        if (e != 0) {
            return ((e >>> 12) + ((hva & (PUD_SIZE - 1)) >>> 12)) << 2 | LEVEL_1G;
        }
        Dir<PteTable> pmd = pud.child(ui);
        if (pmd == null) {
            return NOT_MAPPED;
        }
        int mi = index(hva, PMD_SHIFT);
        e = pmd.leaf[mi];
        if (e != 0) {
            return ((e >>> 12) + ((hva & (PMD_SIZE - 1)) >>> 12)) << 2 | LEVEL_2M;
        }
        PteTable pte = pmd.child(mi);
        int pi = index(hva, 12);
        if (pte == null || !pte.isPresent(pi)) {
            return NOT_MAPPED;
        }
        return pte.pfn(pi) << 2 | LEVEL_4K;
    }

    /** Sets the Accessed bit of the leaf mapping hva, as the CPU does on a user access; returns lookup(hva). */
    long touch(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return NOT_MAPPED;
        }
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] != 0) {
            pud.leaf[ui] |= ACCESSED;
            return lookup(hva);
        }
        Dir<PteTable> pmd = pud.child(ui);
        if (pmd == null) {
            return NOT_MAPPED;
        }
        int mi = index(hva, PMD_SHIFT);
        if (pmd.leaf[mi] != 0) {
            pmd.leaf[mi] |= ACCESSED;
            return lookup(hva);
        }
        PteTable pte = pmd.child(mi);
        int pi = index(hva, 12);
        if (pte == null || !pte.isPresent(pi)) {
            return NOT_MAPPED;
        }
        pte.markYoung(pi);
        return pte.pfn(pi) << 2 | LEVEL_4K;
    }

    /** {@code ptep_test_and_clear_young} on the leaf mapping hva; false if unmapped. */
    boolean testAndClearYoung(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return false;
        }
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] != 0) {
            boolean young = (pud.leaf[ui] & ACCESSED) != 0;
            pud.leaf[ui] &= ~ACCESSED;
            return young;
        }
        Dir<PteTable> pmd = pud.child(ui);
        if (pmd == null) {
            return false;
        }
        int mi = index(hva, PMD_SHIFT);
        if (pmd.leaf[mi] != 0) {
            boolean young = (pmd.leaf[mi] & ACCESSED) != 0;
            pmd.leaf[mi] &= ~ACCESSED;
            return young;
        }
        PteTable pte = pmd.child(mi);
        int pi = index(hva, 12);
        return pte != null && pte.isPresent(pi) && pte.testAndClearYoung(pi);
    }

    /** {@code pte_young} of the leaf mapping hva. */
    boolean isYoung(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return false;
        }
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] != 0) {
            return (pud.leaf[ui] & ACCESSED) != 0;
        }
        Dir<PteTable> pmd = pud.child(ui);
        if (pmd == null) {
            return false;
        }
        int mi = index(hva, PMD_SHIFT);
        if (pmd.leaf[mi] != 0) {
            return (pmd.leaf[mi] & ACCESSED) != 0;
        }
        PteTable pte = pmd.child(mi);
        int pi = index(hva, 12);
        return pte != null && pte.isPresent(pi) && pte.isYoung(pi);
    }

    /** {@code pmd_none()}: no 2M leaf, no PTE table and no 1G leaf above covers hva. */
    boolean pmdNone(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return true;
        }
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] != 0) {
            return false;
        }
        Dir<PteTable> pmd = pud.child(ui);
        if (pmd == null) {
            return true;
        }
        int mi = index(hva, PMD_SHIFT);
        return pmd.leaf[mi] == 0 && pmd.next[mi] == null;
    }

    /** Head pfn of the 2M leaf at hva, or -1 if the PMD entry is not a leaf. */
    long pmdLeaf(long hva) {
        Dir<PteTable> pmd = pmdDir(hva);
        if (pmd == null) {
            return -1;
        }
        long e = pmd.leaf[index(hva, PMD_SHIFT)];
        return e == 0 ? -1 : e >>> 12;
    }

    /** Whether the 2M leaf at hva has its Accessed bit set. */
    boolean pmdLeafYoung(long hva) {
        Dir<PteTable> pmd = pmdDir(hva);
        return pmd != null && (pmd.leaf[index(hva, PMD_SHIFT)] & ACCESSED) != 0;
    }

    /** Head pfn of the 1G leaf at hva, or -1. */
    long pudLeaf(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return -1;
        }
        long e = pud.leaf[index(hva, PUD_SHIFT)];
        return e == 0 ? -1 : e >>> 12;
    }

    /** The PTE table covering hva, or null. */
    PteTable pteTable(long hva) {
        Dir<PteTable> pmd = pmdDir(hva);
        return pmd == null ? null : pmd.child(index(hva, PMD_SHIFT));
    }

    /** Installs a PTE table for hva's 2M range ({@code __pte_alloc}); the PMD entry must be none. */
    PteTable installPteTable(long hva, PteTable table) {
        Dir<PteTable> pmd = pmdDirForUpdate(hva);
        int mi = index(hva, PMD_SHIFT);
        if (pmd.leaf[mi] != 0 || pmd.next[mi] != null) {
            throw new IllegalStateException("PMD for 0x" + Long.toHexString(hva) + " is not none");
        }
        pmd.next[mi] = table;
        pmd.used++;
        pteTables++;
        return table;
    }

    void setPmdLeaf(long hva, long head) {
        Dir<PteTable> pmd = pmdDirForUpdate(hva);
        int mi = index(hva, PMD_SHIFT);
        if (pmd.leaf[mi] != 0 || pmd.next[mi] != null) {
            throw new IllegalStateException("PMD for 0x" + Long.toHexString(hva) + " is not none");
        }
        pmd.leaf[mi] = head << 12 | PSE | PRESENT;
        pmd.used++;
    }

    /** {@code pmdp_huge_get_and_clear}: removes the 2M leaf at hva; returns its head pfn. */
    long clearPmdLeaf(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        int ui = index(hva, PUD_SHIFT);
        Dir<PteTable> pmd = pud.child(ui);
        int mi = index(hva, PMD_SHIFT);
        long head = pmd.leaf[mi] >>> 12;
        pmd.leaf[mi] = 0;
        pmd.used--;
        dropEmpty(hva, pud, ui, pmd);
        return head;
    }

    /** Replaces the PMD leaf at hva with the given PTE table (split_huge_pmd), keeping the directory. */
    void replacePmdLeaf(long hva, PteTable table) {
        Dir<PteTable> pmd = pmdDir(hva);
        int mi = index(hva, PMD_SHIFT);
        pmd.leaf[mi] = 0;
        pmd.next[mi] = table;
        pteTables++;
    }

    void setPudLeaf(long hva, long head) {
        Dir<Dir<PteTable>> pud = pudDirForUpdate(hva);
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] != 0 || pud.next[ui] != null) {
            throw new IllegalStateException("PUD for 0x" + Long.toHexString(hva) + " is not none");
        }
        pud.leaf[ui] = head << 12 | PSE | PRESENT;
        pud.used++;
    }

    long clearPudLeaf(long hva) {
        int gi = (int) (hva >>> PGD_SHIFT);
        Dir<Dir<PteTable>> pud = pgd[gi];
        int ui = index(hva, PUD_SHIFT);
        long head = pud.leaf[ui] >>> 12;
        pud.leaf[ui] = 0;
        if (--pud.used == 0) {
            pgd[gi] = null;
            dirTables--;
        }
        return head;
    }

    /** {@code free_pte_range}: drops the (possibly non-empty-looking, but cleared) PTE table at hva, if any. */
    void freePteTable(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return;
        }
        int ui = index(hva, PUD_SHIFT);
        Dir<PteTable> pmd = pud.child(ui);
        if (pmd == null) {
            return;
        }
        int mi = index(hva, PMD_SHIFT);
        PteTable t = pmd.child(mi);
        if (t == null) {
            return;
        }
        if (t.count() != 0) {
            throw new IllegalStateException("freeing a PTE table that still maps " + t.count() + " pages");
        }
        pmd.next[mi] = null;
        pmd.used--;
        pteTables--;
        dropEmpty(hva, pud, ui, pmd);
    }

    /** Receives the present leaves of a {@link #walk}. */
    interface LeafVisitor {
        /** Visits one leaf; {@code hva} is its first address (aligned to its size). */
        void leaf(long hva, int level);
    }

    /** {@code walk_page_range}: visits every present leaf overlapping [start, end) once, in address order. */
    void walk(long start, long end, LeafVisitor v) {
        long addr = Math.max(start, 0);
        end = Math.min(end, USER_END);
        while (addr < end) {
            Dir<Dir<PteTable>> pud = pudAt(addr);
            if (pud == null) {
                addr = (addr | (PGD_SIZE - 1)) + 1;
                continue;
            }
            int ui = index(addr, PUD_SHIFT);
            long pudNext = (addr | (PUD_SIZE - 1)) + 1;
            if (pud.leaf[ui] != 0) {
                v.leaf(addr & -PUD_SIZE, LEVEL_1G);
                addr = pudNext;
                continue;
            }
            Dir<PteTable> pmd = pud.child(ui);
            if (pmd == null) {
                addr = pudNext;
                continue;
            }
            int mi = index(addr, PMD_SHIFT);
            long pmdNext = (addr | (PMD_SIZE - 1)) + 1;
            if (pmd.leaf[mi] != 0) {
                v.leaf(addr & -PMD_SIZE, LEVEL_2M);
            } else if (pmd.next[mi] != null) {
                PteTable pte = pmd.child(mi);
                for (long a = addr; a < Math.min(pmdNext, end); a += 1L << 12) {
                    if (pte.isPresent(index(a, 12))) {
                        v.leaf(a, LEVEL_4K);
                    }
                }
            }
            addr = pmdNext;
        }
    }

    /** Rough heap bytes of all tables. */
    long bytes() {
        long bytes = 16 + 4 * 256 + dirTables * (24 + 16 + 8 * 512 + 16 + 4 * 512);
        for (Dir<Dir<PteTable>> pud : pgd) {
            if (pud == null) {
                continue;
            }
            for (int ui = 0; ui < 512; ui++) {
                Dir<PteTable> pmd = pud.child(ui);
                if (pmd == null) {
                    continue;
                }
                for (int mi = 0; mi < 512; mi++) {
                    PteTable t = pmd.child(mi);
                    if (t != null) {
                        bytes += t.bytes();
                    }
                }
            }
        }
        return bytes;
    }

    long pteTableCount() {
        return pteTables;
    }

    /** Next address after hva at which the next-level structure changes, for skipping empty ranges. */
    long nextPopulated(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        if (pud == null) {
            return (hva | (PGD_SIZE - 1)) + 1;
        }
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] == 0 && pud.next[ui] == null) {
            return (hva | (PUD_SIZE - 1)) + 1;
        }
        return -1;
    }

    private Dir<Dir<PteTable>> pudAt(long hva) {
        return hva < 0 || hva >= USER_END ? null : pgd[(int) (hva >>> PGD_SHIFT)];
    }

    private Dir<PteTable> pmdDir(long hva) {
        Dir<Dir<PteTable>> pud = pudAt(hva);
        return pud == null ? null : pud.child(index(hva, PUD_SHIFT));
    }

    private Dir<Dir<PteTable>> pudDirForUpdate(long hva) {
        int gi = (int) (hva >>> PGD_SHIFT);
        if (pgd[gi] == null) {
            pgd[gi] = new Dir<>();
            dirTables++;
        }
        return pgd[gi];
    }

    private Dir<PteTable> pmdDirForUpdate(long hva) {
        Dir<Dir<PteTable>> pud = pudDirForUpdate(hva);
        int ui = index(hva, PUD_SHIFT);
        if (pud.leaf[ui] != 0) {
            throw new IllegalStateException("0x" + Long.toHexString(hva) + " is mapped by a 1G leaf");
        }
        Dir<PteTable> pmd = pud.child(ui);
        if (pmd == null) {
            pmd = new Dir<>();
            pud.next[ui] = pmd;
            pud.used++;
            dirTables++;
        }
        return pmd;
    }

    private void dropEmpty(long hva, Dir<Dir<PteTable>> pud, int ui, Dir<PteTable> pmd) {
        if (pmd.used != 0) {
            return;
        }
        pud.next[ui] = null;
        dirTables--;
        if (--pud.used == 0) {
            pgd[(int) (hva >>> PGD_SHIFT)] = null;
            dirTables--;
        }
    }
}
