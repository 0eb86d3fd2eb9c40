// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SharedResource;
import dev.kvmharness.mmu.sched.SimRwLock;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;

/**
 * {@code struct mm_struct} of the simulated VMM process: its VMAs, its page tables, the MMU notifiers KVM
 * registers on it, and its userfaultfds. Guest memory is host memory mapped here, so bytes written by the host
 * side through an hva are the bytes the simulated guest reads through KVM's pfn, exactly as with real KVM.
 *
 * <p>This class is the facade; each job is a package-private class named for the kernel code it models:
 * {@link VmaTree} (mm/vma.c, mm/mmap.c), {@link MemoryFault} (the fault side of mm/memory.c), {@link Gup}
 * (mm/gup.c), {@link UserAccess} (uaccess), {@link MemoryUnmap} (munmap, madvise, mprotect over
 * {@code unmap_page_range()}), {@link MmuNotifierChain} (mm/mmu_notifier.c), {@link MmUserfaultfd}
 * (the mm side of fs/userfaultfd.c), {@link Rmap} (mm/rmap.c's walk), {@link Pagemap} ({@code /proc/self/pagemap})
 * and {@link PageIdle} ({@code /sys/kernel/mm/page_idle/bitmap}), over the {@link HostPageTable}.
 *
 * <p>Pages are populated on first touch, by a host access ({@link #read}, {@link #write}, {@link #fill}) or by
 * KVM's {@code get_user_pages()} ({@link #faultIn}).
 *
 * <p>A call changes shared state only after a scheduling point (a fault first charges what populating costs
 * and yields, then re-checks and maps), and then atomically, except where the kernel can sleep and let others
 * in: inside MMU notifier callbacks (KVM takes its mmu_lock there) and while a fault waits for a userfaultfd.
 * {@code mmap_lock} ({@link MmapLock}) is taken for write by mmap, munmap and mprotect, and for read by madvise,
 * by faults that populate and by the uffd ioctls that fill pages; {@link PageAllocator} charges what
 * allocating, clearing and copying pages cost when CPUs share the zone lock and the memory bus.
 *
 * <p>Virtual addresses come from a top-down bump allocator below {@link #MMAP_BASE}; each mapping is aligned
 * to its page size (2 MiB at least, so THP and shmem windows line up) and separated from the previous one by
 * a 2 MiB gap, so two mmap() calls never share a page table or merge. Addresses are never reused.
 */
public final class HostMm implements AutoCloseable {
    /** {@code TASK_SIZE} with 4-level paging. */
    public static final long TASK_SIZE = (1L << 47) - PhysMem.PAGE_SIZE;
    /** Where the first mapping ends: like {@code mmap_base} of a process without randomization. */
    public static final long MMAP_BASE = 0x7f00_0000_0000L;
    private static final long PAGE = PhysMem.PAGE_SIZE;

    private final SimScheduler sched;
    private final PhysMem phys;
    private final HostPageTable pt = new HostPageTable();
    private final VmaTree vmas = new VmaTree();
    private final MmuNotifierChain notifiers;
    private final MmUserfaultfd userfaults;
    private final MemoryFault faults;
    private final Gup gup;
    private final UserAccess access;
    private final MemoryUnmap unmap;
    private final Rmap rmap;
    private final Pagemap pagemap;
    private final PageIdle pageIdle;
    private final MmapLock mmapLock;
    private final PageAllocator pages;
    private boolean closed;
    /** Virtual time threads spent in {@link #faultIn} (KVM's get_user_pages, with any userfault wait in it). */
    private long gupNs;
    /** Virtual time spent in the fill ioctls (UFFDIO_COPY, _ZEROPAGE, _CONTINUE) of this mm's userfaultfds. */
    private long uffdFillNs;

    public HostMm(SimScheduler sched, PhysMem phys) {
        this.sched = sched;
        this.phys = phys;
        this.notifiers = new MmuNotifierChain(sched, pt);
        this.mmapLock = new MmapLock(sched);
        this.pages = new PageAllocator(sched);
        this.userfaults = new MmUserfaultfd(this, sched, vmas);
        this.faults = new MemoryFault(this, sched, phys, pt, vmas, userfaults, mmapLock, pages);
        this.gup = new Gup(pt, faults);
        this.access = new UserAccess(phys, pt, vmas, faults);
        this.unmap = new MemoryUnmap(phys, pt, vmas, notifiers);
        this.rmap = new Rmap(phys, pt, vmas, this);
        this.pagemap = new Pagemap(sched, phys, pt, vmas, rmap);
        this.pageIdle = new PageIdle(sched, phys, rmap, notifiers);
    }

    public SimScheduler sched() {
        return sched;
    }

    public PhysMem phys() {
        return phys;
    }

    // ---- mappings ----

    /** {@code mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS [| MAP_HUGETLB], -1, 0)}. */
    public long mmap(long len, Backing backing) {
        return mmap(len, backing, true);
    }

    /**
     * Private anonymous mapping; {@code writable = false} maps it {@code PROT_READ}.
     * Unlike the kernel, which rounds len up, a len that is not a multiple of the page size is refused:
     * the harness never means it.
     */
    public long mmap(long len, Backing backing, boolean writable) {
        checkOpen();
        sched.charge(Cost.HOST_MM_SYSCALL);
        mmapLock.writeLock();
        try {
            return vmas.mmapAnon(len, backing, writable);
        } finally {
            mmapLock.writeUnlock();
        }
    }

    /** {@code mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset)} of a memfd. */
    public long mmap(long len, MemFd file, long offset) {
        return mmap(len, file, offset, true);
    }

    /** Shared file mapping; several mappings of one file alias the same pages. */
    public long mmap(long len, MemFd file, long offset, boolean writable) {
        checkOpen();
        sched.charge(Cost.HOST_MM_SYSCALL);
        mmapLock.writeLock();
        try {
            return vmas.mmapFile(len, file, offset, writable);
        } finally {
            mmapLock.writeUnlock();
        }
    }

    /**
     * {@code munmap()}: detaches the VMAs, then announces [hva, hva + len) to the notifiers, unmaps, frees
     * anonymous pages (file pages stay cached) and page tables no other VMA uses, and ends the notification.
     * A range without any VMA is a successful no-op without notifications, as in the kernel.
     */
    public void munmap(long hva, long len) {
        checkOpen();
        sched.charge(Cost.HOST_MM_SYSCALL);
        mmapLock.writeLock();
        try {
            unmap.munmap(hva, len);
        } finally {
            mmapLock.writeUnlock();
        }
        phys.wakeAllWatchers();
    }

    /**
     * {@code mprotect(hva, len, PROT_READ [| PROT_WRITE])}: splits the VMAs at the range's ends, sets their
     * protection, and announces the range to the notifiers as {@code change_protection()} does
     * ({@code MMU_NOTIFY_PROTECTION_VMA}), so KVM zaps its SPTEs there and the next guest access faults through
     * {@code kvm_faultin_pfn()} against the new protection. Pieces that became equal again are merged. A range
     * with a hole gives ENOMEM (nothing changed, unlike the kernel which stops at the hole); a hugetlb VMA
     * can only be split at a huge page boundary (EINVAL).
     */
    public void mprotect(long hva, long len, boolean writable) {
        checkOpen();
        sched.charge(Cost.HOST_MM_SYSCALL);
        mmapLock.writeLock();
        try {
            unmap.mprotect(hva, len, writable);
        } finally {
            mmapLock.writeUnlock();
        }
        phys.wakeAllWatchers();
    }

    /**
     * {@code madvise(MADV_DONTNEED)}: per VMA, a notifier pair around zapping its part of the range.
     * Anonymous pages are freed (the next touch gets a new zeroed page with a new pfn), file pages stay in
     * the page cache. Hugetlb: start must be huge-page aligned, the end is rounded down. Holes in the range
     * give ENOMEM after the mapped parts were handled.
     */
    public void madviseDontneed(long hva, long len) {
        checkOpen();
        sched.charge(Cost.HOST_MM_SYSCALL);
        mmapLock.readLock();
        try {
            unmap.madviseDontneed(hva, len);
        } finally {
            mmapLock.readUnlock();
        }
    }

    // ---- faults ----

    /**
     * KVM's {@code hva_to_pfn()} (get_user_pages with {@code FOLL_WRITE} for a write): the pfn backing hva,
     * faulting it in if needed. Blocks while a userfaultfd resolves a MISSING or MINOR fault, then retries.
     *
     * @throws SimKvmException get_user_pages / EFAULT if hva is not mapped, is beyond the end of the mapped
     *                         file (SIGBUS), or a write hits a read-only mapping
     */
    public FaultResult faultIn(long hva, boolean write) {
        SimThread cur = sched.current();
        long start = cur.now();
        try {
            return gup.getUserPage(hva, write, false);
        } finally {
            gupNs += cur.now() - start;
        }
    }

    /**
     * {@code FOLL_NOWAIT} (KVM's async-page-fault attempt): like {@link #faultIn} but returns null instead of
     * waiting for a userfaultfd; no fault message is queued then.
     */
    public FaultResult faultInNoWait(long hva, boolean write) {
        return gup.getUserPage(hva, write, true);
    }

    /**
     * {@code host_pfn_mapping_level()}: the {@code enum pg_level} of the leaf mapping hva ({@code PG_LEVEL_4K},
     * {@code _2M} or {@code _1G}), or {@code PG_LEVEL_NONE} (0) if nothing maps it. Never faults.
     */
    public int mappingLevel(long hva) {
        return gup.mappingLevel(hva);
    }

    /** The pfn mapped at hva without faulting, or -1. */
    public long pfnIfMapped(long hva) {
        return gup.pfnIfMapped(hva);
    }

    // ---- host accesses (the VMM touching guest memory through its mapping) ----

    /** A user-mode load of width 1, 2, 4 or 8 bytes at hva (little-endian), faulting like a user access. */
    public long read(long hva, int width) {
        return access.read(hva, width);
    }

    public void write(long hva, int width, long value) {
        access.write(hva, width, value);
    }

    /** {@code memset(hva, b, len)}. */
    public void fill(long hva, long len, byte b) {
        access.fill(hva, len, b);
    }

    public void readBytes(long hva, byte[] dst, int dstOff, int len) {
        access.readBytes(hva, dst, dstOff, len);
    }

    public void writeBytes(long hva, byte[] src, int srcOff, int len) {
        access.writeBytes(hva, src, srcOff, len);
    }

    // ---- MMU notifiers and aging ----

    /**
     * A count that moves whenever a host mapping may have been removed or replaced (an invalidate_range_start()
     * or release() announcement) or a page freed. While it stands still, every hva mapped to a page stays
     * mapped to that page and every live page stays live: what a check of a translation against the host
     * read may be remembered.
     */
    public long mappingChanges() {
        return notifiers.invalidations() + phys.frees();
    }

    /** {@code mmu_notifier_register()}. */
    public void register(MmuNotifierOps ops) {
        checkOpen();
        notifiers.register(ops);
    }

    /** {@code mmu_notifier_unregister()}: calls release() for the subscriber, then forgets it. */
    public void unregister(MmuNotifierOps ops) {
        notifiers.unregister(ops);
    }

    /**
     * Page reclaim scanning [start, end) ({@code folio_referenced} with {@code ptep_clear_flush_young_notify}):
     * test-and-clears the host PTEs' Accessed bits and asks the notifiers to clear theirs; true if anything
     * was young.
     */
    public boolean ageRange(long start, long end) {
        return notifiers.clearFlushYoung(start, end);
    }

    /** Idle page tracking ({@code page_idle_clear_pte_refs}): like {@link #ageRange} without TLB flushes. */
    public boolean clearYoungRange(long start, long end) {
        return notifiers.clearYoung(start, end);
    }

    /** khugepaged's {@code pte_young() || mmu_notifier_test_young()}. */
    public boolean testYoung(long hva) {
        return notifiers.testYoung(hva);
    }

    // ---- /proc/self/pagemap and idle page tracking ----

    /** {@code /proc/self/pagemap} of this process, as a reader with CAP_SYS_ADMIN sees it (after close: no VMA). */
    public Pagemap pagemap() {
        return pagemap;
    }

    /**
     * {@code /sys/kernel/mm/page_idle/bitmap} of the simulated host, whose marking goes through this mm's rmap and
     * MMU notifiers (KVM's {@code clear_young}). After close no page is mapped or live any more.
     */
    public PageIdle pageIdle() {
        return pageIdle;
    }

    // ---- userfaultfd, teardown, accounting ----

    /** {@code userfaultfd(2)} + {@code UFFDIO_API}: a new context on this mm. */
    public Userfaultfd userfaultfd() {
        checkOpen();
        return userfaults.create();
    }

    /**
     * {@code exit_mmap()}: {@code mmu_notifier_release} (each subscriber's release(), after which it hears
     * nothing more), the mm's userfaultfds are closed (their readers get null), then every page is unmapped
     * and anonymous pages freed. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        notifiers.releaseAll();
        userfaults.closeAll();
        for (Vma v : vmas.all()) {
            unmap.zap(v, v.start, v.end);
            if (v.file != null) {
                v.file.put();
            }
        }
        vmas.clear();
        pt.freeAll();
        closed = true;
    }

    /** {@code mm->mmap_lock}'s semaphore: acquisitions, and waits for (or behind) writers. */
    public SimRwLock mmapSemaphore() {
        return mmapLock.semaphore();
    }

    /** The cache line of {@code mmap_lock}'s count word, which every reader's atomics pass around. */
    public SharedResource mmapLockLine() {
        return mmapLock.countLine();
    }

    /** The zone lock that refills per-CPU page lists. */
    public SimRwLock zoneLock() {
        return pages.zoneLock();
    }

    /** The memory bus that page clearing and copying share. */
    public SharedResource memoryBus() {
        return pages.memBus();
    }

    /** Virtual ns threads spent in KVM's get_user_pages ({@link #faultIn}), userfault waits included. */
    public long gupNs() {
        return gupNs;
    }

    /** Virtual ns threads spent in UFFDIO_COPY, UFFDIO_ZEROPAGE and UFFDIO_CONTINUE on this mm. */
    public long uffdFillNs() {
        return uffdFillNs;
    }

    void addUffdFillNs(long ns) {
        uffdFillNs += ns;
    }

    MmapLock mmapLock() {
        return mmapLock;
    }

    PageAllocator pageAllocator() {
        return pages;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Number of VMAs (after splits and merges). */
    public int vmaCount() {
        return vmas.count();
    }

    /** Page faults that populated a page (handle_mm_fault doing work, not GUP-fast hits or uffd waits). */
    public long faultsHandled() {
        return faults.faultsHandled();
    }

    /** Rough heap bytes of the host page tables. */
    public long pageTableBytes() {
        return pt.bytes();
    }

    // ---- package-private services for Userfaultfd ----

    HostPageTable pt() {
        return pt;
    }

    VmaTree vmas() {
        return vmas;
    }

    MemoryFault faults() {
        return faults;
    }

    MmUserfaultfd userfaults() {
        return userfaults;
    }

    Rmap rmap() {
        return rmap;
    }

    static void checkRange(String call, long start, long len) {
        if ((start & (PAGE - 1)) != 0 || (len & (PAGE - 1)) != 0 || len == 0 || start >= TASK_SIZE
                || len > TASK_SIZE - start || len < 0) {
            throw new SimKvmException(call, KvmErrno.EINVAL, String.format("bad range 0x%x + 0x%x", start, len));
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the mm was torn down");
        }
    }
}
