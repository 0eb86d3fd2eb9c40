// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * vm_phy_pages_alloc() for slot 0: hands out guest physical pages in increasing order. The harness never
 * frees guest pages during a VM's life, so a bump pointer is all the C library's sparsebit does here.
 */
public final class PhysPageAllocator {
    private final long pageSize;
    private final long endGpa;
    private long next;

    public PhysPageAllocator(long startGpa, long endGpa, long pageSize) {
        this.next = startGpa;
        this.endGpa = endGpa;
        this.pageSize = pageSize;
    }

    /** The gpa of {@code n} fresh contiguous pages; fails when slot 0 is exhausted. */
    public long alloc(long n) {
        long gpa = next;
        if (gpa + n * pageSize > endGpa) {
            throw new TestAssertionFailure("No guest physical pages available in slot 0: need " + n
                    + " page(s) at 0x" + Long.toHexString(gpa) + ", slot ends at 0x" + Long.toHexString(endGpa));
        }
        next += n * pageSize;
        return gpa;
    }

    public long allocPage() {
        return alloc(1);
    }
}
