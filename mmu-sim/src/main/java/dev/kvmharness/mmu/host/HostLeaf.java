// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * What {@code follow_page()} / {@code lookup_address_in_pgd()} find for a mapped address: the 4 KiB page frame
 * at the address and the level of the host page-table leaf that maps it.
 *
 * @param pfn   the 4 KiB pfn at the address (a tail pfn inside a huge leaf)
 * @param level the leaf's {@code enum pg_level}: {@link HostPageTable#PG_LEVEL_4K}, {@code _2M} or {@code _1G}
 */
record HostLeaf(long pfn, int level) {
}
