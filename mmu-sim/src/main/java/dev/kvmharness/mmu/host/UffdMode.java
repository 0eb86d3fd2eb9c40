// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/** {@code UFFDIO_REGISTER_MODE_*}: which faults on a registered range go to the userfaultfd. */
public enum UffdMode {
    /** {@code UFFDIO_REGISTER_MODE_MISSING}: the page does not exist yet; resolved by COPY or ZEROPAGE. */
    MISSING,
    /**
     * {@code UFFDIO_REGISTER_MODE_MINOR}: the page exists in the page cache but is not mapped here; resolved
     * by CONTINUE. Only shmem and hugetlb VMAs can register it.
     */
    MINOR
}
