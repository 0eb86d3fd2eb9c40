// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * A cursor on one address's path through a {@link HostPageTable}: the kernel's {@code pgd_offset()} ->
 * {@code p4d_offset()} -> {@code pud_offset()} -> {@code pmd_offset()} -> {@code pte_offset_map()} descent
 * (the p4d level is folded with 4-level paging), stopping at the first huge leaf or missing table, as
 * {@code follow_page_mask()} and the per-level steps of {@code walk_page_range()} do. Every page-table
 * operation on an address starts with one, so the descent is written once.
 *
 * <p>A walk is created per use and never stored: the JIT scalar-replaces it, so the fault path allocates
 * nothing for it. It reads the tables as they were when it was made; an update through
 * {@link HostPageTable} invalidates it.
 */
final class PageWalk {
    final long hva;
    /** The PUD table the PGD entry points to; null if the PGD entry is none. */
    final HostPageTable.Dir pud;
    final int pudIndex;
    /** The PMD table the PUD entry points to; null if the PUD entry is none or a 1G leaf. */
    final HostPageTable.Dir pmd;
    final int pmdIndex;
    /** The PTE table the PMD entry points to; null if the PMD entry is none or a 2M leaf. */
    final PteTable pte;
    final int pteIndex;
    /** The {@code enum pg_level} of the present leaf mapping hva, or {@link HostPageTable#PG_LEVEL_NONE}. */
    final int level;

    PageWalk(HostPageTable.Dir pud, long hva) {
        this.hva = hva;
        this.pud = pud;
        this.pudIndex = HostPageTable.index(hva, HostPageTable.PUD_SHIFT);
        this.pmdIndex = HostPageTable.index(hva, HostPageTable.PMD_SHIFT);
        this.pteIndex = HostPageTable.index(hva, PhysMem.PAGE_SHIFT);
        if (pud == null) {
            pmd = null;
            pte = null;
            level = HostPageTable.PG_LEVEL_NONE;
        } else if (pud.leaf[pudIndex] != 0) {
            pmd = null;
            pte = null;
            level = HostPageTable.PG_LEVEL_1G;
        } else {
            pmd = (HostPageTable.Dir) pud.next[pudIndex];
            if (pmd == null) {
                pte = null;
                level = HostPageTable.PG_LEVEL_NONE;
            } else if (pmd.leaf[pmdIndex] != 0) {
                pte = null;
                level = HostPageTable.PG_LEVEL_2M;
            } else {
                pte = (PteTable) pmd.next[pmdIndex];
                level = pte != null && pte.isPresent(pteIndex) ? HostPageTable.PG_LEVEL_4K
                        : HostPageTable.PG_LEVEL_NONE;
            }
        }
    }

    /** A present leaf (4K PTE, 2M PMD or 1G PUD) maps hva. */
    boolean mapped() {
        return level != HostPageTable.PG_LEVEL_NONE;
    }

    /** The 4 KiB pfn mapped at hva (a tail pfn inside a huge leaf); only if {@link #mapped()}. */
    long pfn() {
        switch (level) {
            case HostPageTable.PG_LEVEL_1G:
                return HostPageTable.entryPfn(pud.leaf[pudIndex]) + ((hva & (HostPageTable.PUD_SIZE - 1)) >>> PhysMem.PAGE_SHIFT);
            case HostPageTable.PG_LEVEL_2M:
                return HostPageTable.entryPfn(pmd.leaf[pmdIndex]) + ((hva & (HostPageTable.PMD_SIZE - 1)) >>> PhysMem.PAGE_SHIFT);
            case HostPageTable.PG_LEVEL_4K:
                return pte.pfn(pteIndex);
            default:
                throw new IllegalStateException("0x" + Long.toHexString(hva) + " is not mapped");
        }
    }

    /** The leaf mapping hva, or null. */
    HostLeaf leaf() {
        return mapped() ? new HostLeaf(pfn(), level) : null;
    }

    /** Head pfn of the 1G leaf covering hva, or -1 if the PUD entry is not a leaf. */
    long pudLeafHead() {
        return level == HostPageTable.PG_LEVEL_1G ? HostPageTable.entryPfn(pud.leaf[pudIndex]) : -1;
    }

    /** Head pfn of the 2M leaf covering hva, or -1 if the PMD entry is not a leaf. */
    long pmdLeafHead() {
        return level == HostPageTable.PG_LEVEL_2M ? HostPageTable.entryPfn(pmd.leaf[pmdIndex]) : -1;
    }

    /** {@code pud_none()}: the PGD entry or the PUD entry for hva is empty (no leaf, no PMD table). */
    boolean pudNone() {
        return pud == null || (pud.leaf[pudIndex] == 0 && pmd == null);
    }

    /** {@code pmd_none()}: no 2M leaf, no PTE table and no 1G leaf above covers hva. */
    boolean pmdNone() {
        return level != HostPageTable.PG_LEVEL_1G && (pmd == null || (pmd.leaf[pmdIndex] == 0 && pte == null));
    }

    /**
     * Where the empty range around hva above the PMD level ends ({@code pgd_addr_end()} / {@code pud_addr_end()}
     * of a none entry), so range walks skip it; hva itself if the PUD entry is populated.
     */
    long holeEnd() {
        if (pud == null) {
            return (hva | (HostPageTable.PGD_SIZE - 1)) + 1;
        }
        if (pudNone()) {
            return (hva | (HostPageTable.PUD_SIZE - 1)) + 1;
        }
        return hva;
    }

    /** {@code pte_young()} / {@code pmd_young()} / {@code pud_young()} of the leaf mapping hva; false if unmapped. */
    boolean young() {
        switch (level) {
            case HostPageTable.PG_LEVEL_1G:
                return (pud.leaf[pudIndex] & HostPageTable.ACCESSED) != 0;
            case HostPageTable.PG_LEVEL_2M:
                return (pmd.leaf[pmdIndex] & HostPageTable.ACCESSED) != 0;
            case HostPageTable.PG_LEVEL_4K:
                return pte.isYoung(pteIndex);
            default:
                return false;
        }
    }

    /** Sets the Accessed bit of the leaf mapping hva, as the CPU does on a user access; no-op if unmapped. */
    void markYoung() {
        switch (level) {
            case HostPageTable.PG_LEVEL_1G:
                pud.leaf[pudIndex] |= HostPageTable.ACCESSED;
                break;
            case HostPageTable.PG_LEVEL_2M:
                pmd.leaf[pmdIndex] |= HostPageTable.ACCESSED;
                break;
            case HostPageTable.PG_LEVEL_4K:
                pte.markYoung(pteIndex);
                break;
            default:
                break;
        }
    }

    /** {@code ptep_test_and_clear_young()} (and its PMD/PUD forms) on the leaf mapping hva; false if unmapped. */
    boolean testAndClearYoung() {
        switch (level) {
            case HostPageTable.PG_LEVEL_1G: {
                boolean young = (pud.leaf[pudIndex] & HostPageTable.ACCESSED) != 0;
                pud.leaf[pudIndex] &= ~HostPageTable.ACCESSED;
                return young;
            }
            case HostPageTable.PG_LEVEL_2M: {
                boolean young = (pmd.leaf[pmdIndex] & HostPageTable.ACCESSED) != 0;
                pmd.leaf[pmdIndex] &= ~HostPageTable.ACCESSED;
                return young;
            }
            case HostPageTable.PG_LEVEL_4K:
                return pte.testAndClearYoung(pteIndex);
            default:
                return false;
        }
    }
}
