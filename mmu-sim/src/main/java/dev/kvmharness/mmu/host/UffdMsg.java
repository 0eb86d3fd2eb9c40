// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * {@code struct uffd_msg} of event {@code UFFD_EVENT_PAGEFAULT}, as {@code read()} on a userfaultfd returns it.
 *
 * @param address     {@code arg.pagefault.address}: the faulting address rounded down to the VMA's page size
 *                    (4 KiB, or the hugetlb page size), as the kernel reports it without
 *                    {@code UFFD_FEATURE_EXACT_ADDRESS}
 * @param realAddress the exact faulting address (what {@code UFFD_FEATURE_EXACT_ADDRESS} would report)
 * @param write       {@code UFFD_PAGEFAULT_FLAG_WRITE}
 * @param minor       {@code UFFD_PAGEFAULT_FLAG_MINOR}: a MINOR fault, else a MISSING one
 */
public record UffdMsg(long address, long realAddress, boolean write, boolean minor) {
    public static final int UFFD_PAGEFAULT_FLAG_WRITE = 1 << 0;
    public static final int UFFD_PAGEFAULT_FLAG_MINOR = 1 << 2;

    /** {@code arg.pagefault.flags}. */
    public int flags() {
        return (write ? UFFD_PAGEFAULT_FLAG_WRITE : 0) | (minor ? UFFD_PAGEFAULT_FLAG_MINOR : 0);
    }
}
