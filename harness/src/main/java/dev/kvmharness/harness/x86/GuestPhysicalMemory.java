// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/**
 * Access to guest physical memory as aligned little-endian 64-bit words: all the page-table code needs, and
 * easy to back with a memslot's host mapping, a simulator's memory or a map in a unit test.
 */
public interface GuestPhysicalMemory {
    long read64(long gpa);

    void write64(long gpa, long value);

    /**
     * Zeroes {@code bytes} (a multiple of 8) at {@code gpa}. The default stores words one by one; a backend
     * with a bulk fill (a memset of the host mapping) does it in one call.
     */
    default void zero(long gpa, long bytes) {
        for (long off = 0; off < bytes; off += 8) {
            write64(gpa + off, 0);
        }
    }

    /**
     * Reads {@code n} consecutive words at {@code gpa}, inside one 4 KiB page, into {@code dst[0..n)}. The
     * default reads them one by one; a backend with a bulk copy does it in one call.
     */
    default void readWords(long gpa, long[] dst, int n) {
        for (int i = 0; i < n; i++) {
            dst[i] = read64(gpa + i * 8L);
        }
    }

    /** Writes {@code src[0..n)} as consecutive words at {@code gpa}, inside one 4 KiB page. */
    default void writeWords(long gpa, long[] src, int n) {
        for (int i = 0; i < n; i++) {
            write64(gpa + i * 8L, src[i]);
        }
    }
}
