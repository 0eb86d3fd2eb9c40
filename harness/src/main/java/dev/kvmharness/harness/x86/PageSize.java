// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/**
 * The x86-64 page sizes, with the paging-structure level whose entry maps them: a PTE (level 1) maps 4 KiB,
 * a PDE with PS set (level 2) 2 MiB, a PDPTE with PS set (level 3) 1 GiB.
 */
public enum PageSize {
    SIZE_4K(12, 1), SIZE_2M(21, 2), SIZE_1G(30, 3);

    private final int shift;
    private final int level;

    PageSize(int shift, int level) {
        this.shift = shift;
        this.level = level;
    }

    public long bytes() {
        return 1L << shift;
    }

    public int shift() {
        return shift;
    }

    /** Paging-structure level of the leaf entry: 1 = page table, 2 = page directory, 3 = PDPT. */
    public int level() {
        return level;
    }

    /** Whether {@code address} is a multiple of this size. */
    public boolean aligns(long address) {
        return (address & (bytes() - 1)) == 0;
    }

    public static PageSize ofLevel(int level) {
        for (PageSize s : values()) {
            if (s.level == level) {
                return s;
            }
        }
        throw new IllegalArgumentException("no leaf page size at paging level " + level);
    }
}
