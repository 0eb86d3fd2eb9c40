// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/**
 * Access to guest physical memory as aligned little-endian 64-bit words: all the page-table code needs, and
 * easy to back with a memslot's host mapping, a simulator's memory or a map in a unit test.
 */
public interface GuestPhysicalMemory {
    long read64(long gpa);

    void write64(long gpa, long value);
}
