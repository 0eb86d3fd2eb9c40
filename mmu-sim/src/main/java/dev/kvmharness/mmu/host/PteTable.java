// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import java.util.Arrays;

/**
 * A last-level host page table (512 PTEs covering 2 MiB of virtual addresses), stored by what it maps rather
 * than as 512 raw PTEs: as long as entry i maps {@code base + i} (a fresh anonymous table's reserved pfn
 * block, a split THP, a 2 MiB-aligned window of a shmem file) the table is one base pfn plus presence and
 * accessed bitmaps, about 0.3 byte per page. The first entry that breaks the pattern (a page re-faulted after
 * MADV_DONTNEED) turns on an explicit pfn array for this table only.
 */
final class PteTable {
    static final int ENTRIES = 512;
    private static final long NO_BASE = Long.MIN_VALUE;

    private long base = NO_BASE;
    /** The base is a pfn block reserved for this table's anonymous pages: page i may be allocated as base + i. */
    private final boolean reservedBase;
    private final long[] present = new long[ENTRIES / 64];
    /** The hardware Accessed bit of each PTE. */
    private final long[] young = new long[ENTRIES / 64];
    private long[] pfns;
    private int count;

    /** An empty table; with reservedBase, base pfns come from a block reserved for it. */
    PteTable(long reservedBlock) {
        this.reservedBase = reservedBlock != NO_BASE;
        this.base = reservedBlock;
    }

    static PteTable empty() {
        return new PteTable(NO_BASE);
    }

    static PteTable reserved(long block) {
        return new PteTable(block);
    }

    /** The table that replaces a 2 MiB PMD leaf when the huge page is split: every entry maps head + i. */
    static PteTable splitFrom(long head, boolean young) {
        PteTable t = empty();
        t.base = head;
        Arrays.fill(t.present, -1L);
        if (young) {
            Arrays.fill(t.young, -1L);
        }
        t.count = ENTRIES;
        return t;
    }

    boolean isPresent(int i) {
        return (present[i >>> 6] & (1L << i)) != 0;
    }

    long pfn(int i) {
        return pfns != null ? pfns[i] : base + i;
    }

    /** The pfn an anonymous fault at entry i should try first, or -1 if the table has no reserved block. */
    long reservedPfn(int i) {
        return reservedBase ? base + i : -1;
    }

    int count() {
        return count;
    }

    void set(int i, long pfn) {
        if (isPresent(i)) {
            throw new IllegalStateException("PTE " + i + " is already present");
        }
        if (pfns == null) {
            if (base == NO_BASE) {
                base = pfn - i;
            }
            if (pfn != base + i) {
                pfns = new long[ENTRIES];
                for (int j = 0; j < ENTRIES; j++) {
                    pfns[j] = base + j;
                }
            }
        }
        if (pfns != null) {
            pfns[i] = pfn;
        }
        present[i >>> 6] |= 1L << i;
        young[i >>> 6] &= ~(1L << i);
        count++;
    }

    void clear(int i) {
        present[i >>> 6] &= ~(1L << i);
        young[i >>> 6] &= ~(1L << i);
        count--;
    }

    void markYoung(int i) {
        young[i >>> 6] |= 1L << i;
    }

    boolean testAndClearYoung(int i) {
        boolean was = (young[i >>> 6] & (1L << i)) != 0;
        young[i >>> 6] &= ~(1L << i);
        return was;
    }

    boolean isYoung(int i) {
        return (young[i >>> 6] & (1L << i)) != 0;
    }

    /** Rough heap bytes. */
    long bytes() {
        return 40 + 2 * (16 + 8 * present.length) + (pfns == null ? 0 : 16 + 8L * ENTRIES);
    }
}
