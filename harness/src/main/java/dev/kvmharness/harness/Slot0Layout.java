// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * How big memslot 0 is and where the harness puts its own guest data in it, the counterpart of
 * vm_nr_pages_required() and the MEM_REGION_* allocations of lib/kvm_util.c. Both backends use it, so a
 * guest sees the same physical layout on either.
 */
public final class Slot0Layout {
    /** Slot 0 starts at guest physical 0 and is identity mapped. */
    public static final long BASE_GPA = 0;
    /** Room for code, GDT, TSS, IDT and harness data (the C library's arbitrary 512 pages). */
    public static final long BASE_PAGES = 512;
    /** DEFAULT_STACK_PGS: pages of stack per vCPU. */
    public static final long STACK_PAGES = 5;
    /** 512 eight-byte entries per 4K page-table page. */
    public static final long PTES_PER_PAGE = 512;

    private Slot0Layout() {
    }

    /**
     * The identity-mapped data area at the bottom of slot 0 (page 0, code, descriptor tables, harness data, one
     * stack per vCPU); the guest page tables live above it, unmapped.
     */
    public static long dataPages(int nrVcpus) {
        return BASE_PAGES + nrVcpus * STACK_PAGES;
    }

    /**
     * Pages slot 0 needs: the base, stacks, and an upper bound for the page tables that map slot 0 itself
     * and {@code extraPages} more 4K pages (N/512 + N/512^2 + ... &lt; 2N/512).
     */
    public static long pagesRequired(int nrVcpus, long extraPages) {
        long pages = BASE_PAGES + nrVcpus * STACK_PAGES;
        pages += (pages + extraPages) / PTES_PER_PAGE * 2 + 8;
        return pages;
    }
}
