// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/** A memslot and the host memory behind it (struct userspace_mem_region). */
public interface MemRegion {
    int slot();

    long gpa();

    long size();

    int flags();

    BackingSource source();

    /** Host virtual address of the first byte. */
    long hva();

    /** Host virtual address of the alias mapping (shared sources), or 0. */
    long alias();
}
