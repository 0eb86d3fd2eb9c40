// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.spte;

/**
 * The EPT SPTE encoding KVM programs with kvm_mmu_set_ept_masks() (arch/x86/kvm/mmu/spte.h, spte.c): the bit
 * layout, the special values (non-present, frozen, MMIO) and the make_*_spte() constructors. An SPTE is a
 * plain {@code long}, 8 bytes like the hardware entry, so a page table is a {@code long[512]}.
 *
 * <p>The model assumes a CPU with EPT A/D bits (the common case): the A/D type field is 0 and the
 * access-tracking encodings are not produced.
 */
public final class Spte {
    /** enum pg_level: the level of a leaf, 1 for a 4 KiB page up to 3 for 1 GiB. */
    public static final int PG_LEVEL_4K = 1;
    public static final int PG_LEVEL_2M = 2;
    public static final int PG_LEVEL_1G = 3;
    public static final long READABLE = 1L;
    public static final long WRITABLE = 1L << 1;
    public static final long EXECUTABLE = 1L << 2;
    public static final long RWX = READABLE | WRITABLE | EXECUTABLE;
    /** EPT memtype WB (6) in bits 3-5: what make_spte() asks for on RAM. */
    public static final long MEMTYPE_WB = 6L << 3;
    /** PT_PAGE_SIZE_MASK: the leaf maps more than 4K. */
    public static final long LARGE = 1L << 7;
    public static final long ACCESSED = 1L << 8;
    public static final long DIRTY = 1L << 9;
    /** SPTE_MMU_PRESENT_MASK: software "shadow-present". */
    public static final long MMU_PRESENT = 1L << 11;
    public static final long PFN_MASK = ((1L << 52) - 1) & ~((1L << 12) - 1);
    /** EPT_SPTE_HOST_WRITABLE. */
    public static final long HOST_WRITABLE = 1L << 57;
    /** EPT_SPTE_MMU_WRITABLE. */
    public static final long MMU_WRITABLE = 1L << 58;
    /** Suppress #VE: part of every non-present value and of shadow_present_mask. */
    public static final long SUPPRESS_VE = 1L << 63;

    /** SHADOW_NONPRESENT_VALUE: what a zapped entry holds (6.12; legacy kernels wrote 0). */
    public static final long NONPRESENT = SUPPRESS_VE;
    /** FROZEN_SPTE (formerly REMOVED_SPTE): a temporary per-entry lock; no RWX, no PFN, not present. */
    public static final long FROZEN = NONPRESENT | 0x5a0L;

    /** MMIO SPTE: W+X without R, an EPT misconfiguration. */
    public static final long MMIO_VALUE = WRITABLE | EXECUTABLE;
    /** MMIO_SPTE_GEN_*: generation bits 0-7 live in SPTE bits 3-10, bits 8-18 in SPTE bits 52-62. */
    public static final int MMIO_GEN_BITS = 19;
    public static final long MMIO_GEN_MASK = (1L << MMIO_GEN_BITS) - 1;

    public static final int PT_ENTRIES = 512;

    private Spte() {
    }

    /** is_shadow_present_pte(). */
    public static boolean isPresent(long spte) {
        return (spte & MMU_PRESENT) != 0;
    }

    /** is_frozen_spte(). */
    public static boolean isFrozen(long spte) {
        return spte == FROZEN;
    }

    /** is_mmio_spte(): RWX and bit 63 equal to the MMIO value. */
    public static boolean isMmio(long spte) {
        return (spte & (RWX | SUPPRESS_VE)) == MMIO_VALUE;
    }

    /** is_last_spte(): only meaningful for present SPTEs. */
    public static boolean isLastLevel(long spte, int level) {
        return level == PG_LEVEL_4K || (spte & LARGE) != 0;
    }

    /** A present leaf. */
    public static boolean isLeaf(long spte, int level) {
        return isPresent(spte) && isLastLevel(spte, level);
    }

    public static long pfn(long spte) {
        return (spte & PFN_MASK) >>> 12;
    }

    public static boolean isWritable(long spte) {
        return (spte & WRITABLE) != 0;
    }

    public static boolean isExecutable(long spte) {
        return (spte & EXECUTABLE) != 0;
    }

    public static boolean isMmuWritable(long spte) {
        return (spte & MMU_WRITABLE) != 0;
    }

    public static boolean isHostWritable(long spte) {
        return (spte & HOST_WRITABLE) != 0;
    }

    public static boolean isAccessed(long spte) {
        return (spte & ACCESSED) != 0;
    }

    public static boolean isDirty(long spte) {
        return (spte & DIRTY) != 0;
    }

    /**
     * spte_has_volatile_bits() with A/D bits enabled: hardware may set A or D, or fast page fault may set W,
     * outside mmu_lock, so such an SPTE must be changed with an atomic exchange.
     */
    public static boolean hasVolatileBits(long spte, int level) {
        if (!isLeaf(spte, level)) {
            return false;
        }
        return (!isWritable(spte) && isMmuWritable(spte)) || !isAccessed(spte) || (isWritable(spte) && !isDirty(spte));
    }

    /**
     * make_spte() for a fault (access = ACC_ALL): present, accessed unless prefetched, executable unless the NX
     * huge page mitigation stripped X from a huge page, PS above 4K; writable SPTEs are created dirty.
     */
    public static long makeLeaf(long pfn, int level, boolean hostWritable, boolean writable, boolean executable,
                                boolean prefetch) {
        long spte = MMU_PRESENT | SUPPRESS_VE | READABLE | MEMTYPE_WB | (pfn << 12);
        if (!prefetch) {
            spte |= ACCESSED;
        }
        if (executable) {
            spte |= EXECUTABLE;
        }
        if (level > PG_LEVEL_4K) {
            spte |= LARGE;
        }
        if (hostWritable) {
            spte |= HOST_WRITABLE;
            if (writable) {
                spte |= WRITABLE | MMU_WRITABLE | DIRTY;
            } else {
                spte |= MMU_WRITABLE;
            }
        }
        return spte;
    }

    /** make_nonleaf_spte(): points at a child table, with full permissions and A set. */
    public static long makeNonLeaf(long childTable) {
        return MMU_PRESENT | SUPPRESS_VE | RWX | ACCESSED | (childTable << 12);
    }

    /**
     * make_huge_page_split_spte(): the {@code index}-th child of a huge leaf maps the same memory at the child
     * level; 4K children lose PS, and regain X if the NX mitigation had stripped it from the huge page.
     */
    public static long makeSplitChild(long huge, int hugeLevel, int index, boolean nxStripped) {
        int childLevel = hugeLevel - 1;
        long childPfn = pfn(huge) + (long) index * pagesPerEntry(childLevel);
        long spte = (huge & ~PFN_MASK) | (childPfn << 12);
        if (childLevel == PG_LEVEL_4K) {
            spte &= ~LARGE;
            if (nxStripped) {
                spte |= EXECUTABLE;
            }
        }
        return spte;
    }

    /** make_mmio_spte(): caches "no memslot here" with the memslots generation it was created under. */
    public static long makeMmio(long gfn, long generation) {
        long gen = generation & MMIO_GEN_MASK;
        long spte = MMIO_VALUE | (gfn << 12);
        spte |= (gen & 0xffL) << 3;
        spte |= (gen >>> 8) << 52;
        return spte & ~SUPPRESS_VE;
    }

    /** get_mmio_spte_generation(). */
    public static long mmioGeneration(long spte) {
        return ((spte >>> 3) & 0xffL) | (((spte >>> 52) & 0x7ffL) << 8);
    }

    /** The gfn an MMIO SPTE caches. */
    public static long mmioGfn(long spte) {
        return (spte & PFN_MASK & ~(0x7ffL << 52)) >>> 12;
    }

    /** KVM_PAGES_PER_HPAGE(level): 4K frames one entry at {@code level} covers. */
    public static long pagesPerEntry(int level) {
        return 1L << (9 * (level - 1));
    }

    /** SPTE_INDEX(gfn << PAGE_SHIFT, level). */
    public static int index(long gfn, int level) {
        return (int) ((gfn >>> (9 * (level - 1))) & 511);
    }

    /** The first gfn of the entry at {@code level} that covers {@code gfn}. */
    public static long alignDown(long gfn, int level) {
        return gfn & -pagesPerEntry(level);
    }

    /** check_spte_writable_invariants(): (HostW, MmuW, W) must be 111, 110, 100 or 000. */
    public static boolean writableInvariantsHold(long spte) {
        if (isWritable(spte) && !isMmuWritable(spte)) {
            return false;
        }
        return !isMmuWritable(spte) || isHostWritable(spte);
    }
}
