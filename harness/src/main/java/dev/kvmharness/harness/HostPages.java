// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * The host's page-level view of the VMM's memory, as the selftests read it through procfs and sysfs:
 * {@code /proc/self/pagemap} (which host page frame backs a host virtual address) and idle page tracking,
 * {@code /sys/kernel/mm/page_idle/bitmap} (64 pfns per u64: writing a set bit marks the page idle, which clears
 * the Accessed bit of its host PTEs and, through the {@code clear_young} MMU notifier, of KVM's SPTEs; reading
 * says whether the page is still idle, i.e. nothing referenced it since). These are access_tracking_perf_test's
 * {@code pread_uint64()}, {@code lookup_pfn()}, {@code is_page_idle()} and {@code mark_page_idle()}.
 *
 * <p>On {@code kvm} these are the real files of this process and host: the PFNs need {@code CAP_SYS_ADMIN}
 * (without it pagemap shows 0), the bitmap needs root and {@code CONFIG_IDLE_PAGE_TRACKING}
 * ({@link Backend#pageIdleUnavailableReason()} says whether it is there). On {@code sim} they are the simulated
 * host mm's, reached through its reverse map and MMU notifiers, so marking a page idle really ages KVM's SPTEs;
 * calls must come from the VM's simulated threads (the test's main thread or threads of {@link Vm#host()}).
 *
 * <p>A missing file is a {@link TestSkipped} naming it; a short read or write a {@link TestAssertionFailure}
 * with the C test's message ({@code "pread from pagemap offset 0x... failed!"}).
 */
public interface HostPages {
    /** The pagemap file. */
    String PAGEMAP = "/proc/self/pagemap";
    /** The idle page tracking bitmap. */
    String PAGE_IDLE_BITMAP = "/sys/kernel/mm/page_idle/bitmap";
    /** PM_PRESENT: bit 63 of a pagemap entry. */
    long PAGEMAP_PRESENT = 1L << 63;
    /** PM_PFRAME_MASK: bits 0-54 of a pagemap entry, the PFN of a present page. */
    long PAGEMAP_PFN_MASK = (1L << 55) - 1;
    /** PM_FILE: bit 61, a file page or shared anonymous memory. */
    long PAGEMAP_FILE = 1L << 61;
    /** PM_MMAP_EXCLUSIVE: bit 56, the page is mapped once. */
    long PAGEMAP_EXCLUSIVE = 1L << 56;
    /** PM_SOFT_DIRTY: bit 55. */
    long PAGEMAP_SOFT_DIRTY = 1L << 55;
    /** Host page size: pagemap has one entry per page. */
    long PAGE_SIZE = 4096;

    /** {@code pread()} of the 8-byte pagemap entry of the page holding host virtual address {@code hva}. */
    long pagemapEntry(long hva);

    /** {@code pread()} of bitmap word {@code index}: the idle bits of pfns {@code [64 * index, 64 * index + 64)}. */
    long readIdleBitmap(long index);

    /** {@code pwrite()} of bitmap word {@code index}: each set bit marks its pfn idle. */
    void writeIdleBitmap(long index, long bits);

    /**
     * The PFN behind {@code hva} ({@code lookup_pfn()} without its skip): 0 if the page is not present, and 0 too
     * for a present page where the reader may not see PFNs (no CAP_SYS_ADMIN).
     */
    default long pfn(long hva) {
        long e = pagemapEntry(hva);
        return (e & PAGEMAP_PRESENT) == 0 ? 0 : e & PAGEMAP_PFN_MASK;
    }

    /** {@code is_page_idle()}: whether {@code pfn} reads as idle. */
    default boolean isIdle(long pfn) {
        return ((readIdleBitmap(pfn / 64) >>> (pfn % 64)) & 1) != 0;
    }

    /** {@code mark_page_idle()}: marks {@code pfn} idle, only its bit set in the word written. */
    default void markIdle(long pfn) {
        writeIdleBitmap(pfn / 64, 1L << (pfn % 64));
    }
}
