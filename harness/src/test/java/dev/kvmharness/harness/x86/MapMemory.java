// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import java.util.HashMap;
import java.util.Map;

/**
 * Sparse guest physical memory for page-table tests: unwritten words read as zero, and a bump allocator hands
 * out table pages from {@code firstTablePage} on.
 */
final class MapMemory implements GuestPhysicalMemory {
    final Map<Long, Long> words = new HashMap<>();
    private long nextPage;
    int allocations;

    MapMemory(long firstTablePage) {
        this.nextPage = firstTablePage;
    }

    @Override
    public long read64(long gpa) {
        checkAligned(gpa);
        return words.getOrDefault(gpa, 0L);
    }

    @Override
    public void write64(long gpa, long value) {
        checkAligned(gpa);
        words.put(gpa, value);
    }

    long allocPage() {
        long gpa = nextPage;
        nextPage += 4096;
        allocations++;
        return gpa;
    }

    private static void checkAligned(long gpa) {
        if ((gpa & 7) != 0) {
            throw new AssertionError("unaligned 64-bit access at 0x" + Long.toHexString(gpa));
        }
    }
}
