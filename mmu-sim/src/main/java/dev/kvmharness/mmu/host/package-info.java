// SPDX-License-Identifier: GPL-2.0-only
/**
 * The simulated host side of guest memory: physical pages, the VMM process's mm, MMU-notifier hooks and
 * userfaultfd. It stands where mm/ stands for real KVM: KVM's fault path asks it for pfns
 * ({@code hva_to_pfn}, {@code host_pfn_mapping_level}), it tells KVM about unmapping through
 * {@link dev.kvmharness.mmu.host.MmuNotifierOps}, and it makes faults wait for userfaultfd handlers.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link dev.kvmharness.mmu.host.PhysMem}: page frames with real bytes. Pfns come from a bump allocator
 *       and are never reused; compound pages are naturally aligned; contents exist only once written.</li>
 *   <li>{@link dev.kvmharness.mmu.host.MemFd}: a shmem or hugetlbfs file whose page cache is shared by every
 *       mapping of it (aliases see the same pfns and bytes).</li>
 *   <li>{@link dev.kvmharness.mmu.host.HostMm}: the mm_struct facade over package-private pieces, one job
 *       each, named for the kernel code they model: {@code VmaTree} (VMAs split and merged like the kernel's,
 *       mm/vma.c), {@code HostPageTable} with its walk cursor {@code PageWalk} (4-level page tables with
 *       4K / 2M / 1G leaves), {@code MemoryFault} (handle_mm_fault), {@code Gup} (mm/gup.c),
 *       {@code UserAccess} (copy_to/from_user), {@code MemoryUnmap} (munmap, MADV_DONTNEED, mprotect over
 *       unmap_page_range), {@code MmuNotifierChain} (mm/mmu_notifier.c and aging) and
 *       {@code MmUserfaultfd} (handle_userfault); teardown is exit_mmap in the facade.</li>
 *   <li>{@link dev.kvmharness.mmu.host.Userfaultfd}: registration, fault messages, COPY / ZEROPAGE /
 *       CONTINUE / WAKE with the errnos of fs/userfaultfd.c and mm/userfaultfd.c (6.12).</li>
 * </ul>
 *
 * <h2>Page sizes</h2>
 * {@link dev.kvmharness.mmu.host.Backing#ANON} maps 4K pages; {@code ANON_THP} maps a 2M folio when the
 * 2M-aligned range around the fault lies inside the VMA and no PTE table is there yet, else 4K (an munmap
 * or MADV_DONTNEED cutting into a THP splits it into 4K mappings of the same pfns); hugetlb mappings and
 * hugetlbfs files always map, unmap and resolve userfaults in whole huge pages. The level of the host leaf
 * mapping an address is what {@code host_pfn_mapping_level()} reads.
 *
 * <h2>Time and blocking</h2>
 * Everything runs under the {@link dev.kvmharness.mmu.sched.SimScheduler} baton, so there is no Java locking.
 * Work is charged to the acting thread's virtual clock ({@code GUP_FAST}, {@code HOST_PAGE_ALLOC},
 * {@code HOST_PAGE_ZERO} per 4K, {@code HOST_PAGE_COPY} per 4K, {@code HOST_NOTIFIER} per callback,
 * {@code UFFD_FAULT}, {@code UFFD_WAKE}, {@code UFFD_READ}, {@code IOCTL}). Work that publishes state (a
 * populated page, a fault message, a page placed by UFFDIO_COPY) is decided, charged, followed by a
 * scheduling point and then re-checked and published, so no thread sees an effect from its virtual future.
 * A userfault sleeps on a {@link dev.kvmharness.mmu.sched.WaitQueue} of its own thread; readers sleep on the
 * context's queue and are woken one per message. mmap, munmap, madvise and the uffd ioctls start with a
 * scheduling point and then act atomically, except that MMU-notifier callbacks (KVM takes its mmu_lock there)
 * let other threads run in the middle of an unmap. Callers must be simulated threads of the scheduler.
 *
 * <h2>Deliberate simplifications</h2>
 * No shared zero page (read faults and UFFDIO_ZEROPAGE allocate a zeroed page that holds no bytes), no
 * swap, no page-cache reclaim, no fork, no mprotect, no mremap, no userfaultfd events other than page faults
 * and no write-protect mode; a THP is split at once instead of through the deferred-split queue. mmap refuses
 * lengths that are not page multiples instead of rounding them up.
 *
 * <h2>Memory</h2>
 * Untouched but faulted-in memory costs under one byte of heap per 4K page: a flags nibble in
 * {@code PhysMem} and a share of a compact PTE table (base pfn plus bitmaps), see
 * {@link dev.kvmharness.mmu.host.PhysMem#metadataBytes()} and
 * {@link dev.kvmharness.mmu.host.HostMm#pageTableBytes()}.
 */
package dev.kvmharness.mmu.host;
