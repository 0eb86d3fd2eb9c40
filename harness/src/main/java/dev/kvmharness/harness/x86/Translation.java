// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/**
 * The outcome of a successful software page walk.
 *
 * @param gpa the guest physical address the virtual address maps to
 * @param size the size of the page that maps it
 * @param entryGpa where the leaf paging-structure entry lives (to inspect or edit its bits)
 */
public record Translation(long gpa, PageSize size, long entryGpa) {
}
