// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * What backs a private anonymous mapping ({@code MAP_PRIVATE | MAP_ANONYMOUS}, optionally with
 * {@code MADV_HUGEPAGE} or {@code MAP_HUGETLB | MAP_HUGE_2MB / MAP_HUGE_1GB}): the selftests' anonymous
 * backing sources ({@code VM_MEM_SRC_ANONYMOUS*} in tools/testing/selftests/kvm/lib/test_util.c).
 */
public enum Backing {
    /** 4 KiB pages only (THP disabled for the VMA). */
    ANON(PhysMem.PAGE_SIZE, PhysMem.PAGE_SIZE),
    /** Transparent huge pages: a 2 MiB folio wherever the whole 2 MiB-aligned range lies inside the VMA. */
    ANON_THP(PhysMem.PAGE_SIZE, 1L << 21),
    /** hugetlbfs 2 MiB pages ({@code MAP_HUGETLB | MAP_HUGE_2MB}). */
    ANON_HUGETLB_2M(1L << 21, 1L << 21),
    /** hugetlbfs 1 GiB pages ({@code MAP_HUGETLB | MAP_HUGE_1GB}). */
    ANON_HUGETLB_1G(1L << 30, 1L << 30);

    private final long pageSize;
    private final long alignment;

    Backing(long pageSize, long alignment) {
        this.pageSize = pageSize;
        this.alignment = alignment;
    }

    /** {@code vma_kernel_pagesize()}: the unit of mapping, unmapping and userfaultfd resolution. */
    public long pageSize() {
        return pageSize;
    }

    /** Alignment of the addresses mmap returns, as {@code thp_get_unmapped_area()} / hugetlbfs choose them. */
    public long alignment() {
        return alignment;
    }

    public boolean isHugetlb() {
        return this == ANON_HUGETLB_2M || this == ANON_HUGETLB_1G;
    }
}
