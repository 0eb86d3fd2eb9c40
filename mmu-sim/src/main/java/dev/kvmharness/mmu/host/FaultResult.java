// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * What KVM's {@code hva_to_pfn()} learns from the host for one address, plus what
 * {@code host_pfn_mapping_level()} reads from the host page tables for it.
 *
 * @param pfn          the 4 KiB page frame that backs the address (a tail pfn inside a huge folio)
 * @param mappingLevel {@code enum pg_level} of the host page-table leaf mapping the address
 *                     ({@code Spte.PG_LEVEL_4K} PTE, {@code _2M} PMD, {@code _1G} PUD)
 * @param writable     whether the host mapping allows writes ({@code map_writable})
 */
public record FaultResult(long pfn, int mappingLevel, boolean writable) {
}
