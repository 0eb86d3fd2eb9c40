// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;

/**
 * The fault side of mm/memory.c: {@code handle_mm_fault()} and its retry loop ({@code faultin_page()} /
 * {@code VM_FAULT_RETRY}), populating a not-present address the way {@code do_anonymous_page()},
 * {@code do_huge_pmd_anonymous_page()} (mm/huge_memory.c), {@code hugetlb_fault()} (mm/hugetlb.c) and
 * {@code shmem_fault()} + {@code finish_fault()} do, and handing missing or minor faults of registered
 * ranges to {@code handle_userfault()}. The page-table installs ({@code __pte_alloc()}, leaf sets) are shared
 * with UFFDIO_COPY / UFFDIO_CONTINUE ({@code mfill_atomic()}).
 *
 * <p>Like {@code mm_forbids_zeropage()} mms the model never maps the shared zero page: a read fault allocates
 * a zeroed page too (it holds no bytes until written).
 */
final class MemoryFault {
    private static final long PAGE = PhysMem.PAGE_SIZE;

    /** Who must resolve a not-present address: the fault itself, or a userfaultfd handler. */
    private enum Resolver {
        /** handle_mm_fault populates it. */
        FAULT,
        /** {@code VM_UFFD_MISSING}: no page exists yet. */
        UFFD_MISSING,
        /** {@code VM_UFFD_MINOR}: the page is in the page cache, not mapped. */
        UFFD_MINOR
    }

    private final HostMm mm;
    private final SimScheduler sched;
    private final PhysMem phys;
    private final HostPageTable pt;
    private final VmaTree vmas;
    private final MmUserfaultfd userfaults;
    private final MmapLock mmapLock;
    private final PageAllocator pages;
    private long faultsHandled;
    /**
     * The leaf the last successful {@link #fault} found or installed at its hva: {@code follow_page_mask()}'s
     * answer, kept so GUP and user accesses need not walk the tables again. Valid until the next fault or
     * page-table update; simulated threads run one at a time and nothing yields between the fault's return
     * and its caller's read.
     */
    private long leafPfn;
    private int leafLevel;

    MemoryFault(HostMm mm, SimScheduler sched, PhysMem phys, HostPageTable pt, VmaTree vmas,
            MmUserfaultfd userfaults, MmapLock mmapLock, PageAllocator pages) {
        this.mm = mm;
        this.mmapLock = mmapLock;
        this.pages = pages;
        this.sched = sched;
        this.phys = phys;
        this.pt = pt;
        this.vmas = vmas;
        this.userfaults = userfaults;
    }

    /** Page faults that populated a page (handle_mm_fault doing work, not GUP-fast hits or uffd waits). */
    long faultsHandled() {
        return faultsHandled;
    }

    /** The 4 KiB pfn mapped at the last faulted hva (a tail pfn inside a huge leaf). */
    long leafPfn() {
        return leafPfn;
    }

    /** The {@code enum pg_level} of the leaf mapping the last faulted hva. */
    int leafLevel() {
        return leafLevel;
    }

    /**
     * The fault loop. Work that changes shared state follows one pattern: decide, charge its cost, yield (so
     * every thread still behind in virtual time runs first), then check again and publish; a thread therefore
     * never sees a page or a fault message from its future.
     *
     * <p>Returns the VMA that now maps hva (the caller follows the page table to the pfn, as
     * {@code __get_user_pages()} calls {@code follow_page_mask()} again after {@code faultin_page()}), or null
     * for "would wait for a userfault" ({@code noWait}). A {@code user} fault is a CPU access (it sets the
     * Accessed bit and dirties on write), otherwise it is GUP's ({@code FOLL_TOUCH}).
     */
    Vma fault(long hva, boolean write, boolean noWait, boolean user, String call) {
        if (mm.isClosed()) {
            throw new SimKvmException(call, KvmErrno.EFAULT, "the mm was torn down");
        }
        boolean populatePaid = false;
        boolean userfaultPaid = false;
        boolean locked = false;
        try {
            for (;;) {
                Vma vma = vmas.find(hva);
                if (vma == null) {
                    throw new SimKvmException(call, KvmErrno.EFAULT, String.format("no mapping at 0x%x", hva));
                }
                if (write && !vma.writable) {
                    // Concatenation, not String.format: mmu_stress_test takes this path once per page.
                    throw new SimKvmException(call, KvmErrno.EFAULT, "0x" + Long.toHexString(hva) + " is mapped read-only");
                }
                PageWalk w = pt.walk(hva);
                if (w.mapped()) {
                    long pfn = w.pfn();
                    leafPfn = pfn;
                    leafLevel = w.level;
                    if (!user) {
                        sched.charge(Cost.GUP_FAST);
                    } else {
                        w.markYoung();
                        if (write) {
                            phys.markDirty(pfn);
                        }
                    }
                    return vma;
                }
                if (!locked) {
                    // Past GUP's lockless fast path (or the hardware walk): mmap_read_lock, a scheduling point,
                    // after which the VMA and the page table must be looked at again.
                    mmapLock.readLock();
                    locked = true;
                    continue;
                }
                Resolver resolver = resolver(vma, hva, call);
                if (resolver != Resolver.FAULT) {
                    if (noWait) {
                        return null; // FAULT_FLAG_RETRY_NOWAIT: handle_userfault returns before queueing a message
                    }
                    if (!userfaultPaid) {
                        userfaultPaid = true;
                        sched.charge(Cost.UFFD_FAULT);
                        sched.yieldPoint();
                        continue; // userfaultfd_must_wait(): look again before queueing
                    }
                    // handle_userfault drops mmap_lock before it sleeps; the retry takes it again
                    mmapLock.readUnlock();
                    locked = false;
                    userfaults.handleUserfault(vma, hva, write, resolver == Resolver.UFFD_MINOR);
                    userfaultPaid = false;
                    if (!user) {
                        // VM_FAULT_RETRY in __get_user_pages_locked(): mmap_read_lock again, fault again (now
                        // it finds the page) and follow it. A CPU access just re-executes and, the page mapped,
                        // takes no fault.
                        mmapLock.readLock();
                        locked = true;
                    }
                    continue;
                }
                if (!populatePaid) {
                    populatePaid = true;
                    // Paying can itself let others run (a refill of the per-CPU list takes the zone lock): any
                    // handoff meanwhile, like one in the yield, means the walk may be stale.
                    long handoffs = sched.handoffs();
                    chargePopulate(vma, hva);
                    if (sched.yieldPoint() || sched.handoffs() != handoffs) {
                        continue; // another thread ran: look again
                    }
                    // Nobody ran during the yield: the VMA and the walk still hold, and looking again would find
                    // what the first look found.
                }
                long pfn = populate(vma, hva, w);
                faultsHandled++;
                if (user) {
                    pt.walk(hva).markYoung();
                    if (write) {
                        phys.markDirty(pfn);
                    }
                } else {
                    phys.markTouched(pfn, write); // FOLL_TOUCH
                }
                return vma;
            }
        } finally {
            if (locked) {
                mmapLock.readUnlock();
            }
        }
    }

    /**
     * What populating a not-present hva costs, as populate() will do it: a page-cache hit only updates the page
     * table; otherwise allocate (per-CPU list, zone, or hugetlb pool) and clear the folio.
     */
    private void chargePopulate(Vma vma, long hva) {
        long need = populateBytes(vma, hva);
        if (need == 0) {
            sched.charge(Cost.GUP_FAST); // only a page-table update: the page is in the cache
            return;
        }
        if (vma.isHugetlb() || (vma.file != null && vma.pageSize() > PAGE)) {
            pages.allocHugetlb();
        } else if (need > PAGE) {
            pages.allocFolio();
        } else {
            pages.allocPage();
        }
        pages.zero(need / PAGE);
    }

    /** The PTE table for an anonymous 4K page at hva, installing one with a reserved pfn block if needed. */
    PteTable anonPteTable(long hva) {
        PteTable t = pt.pteTable(hva);
        return t != null ? t : pt.installPteTable(hva, PteTable.reserved(phys.reserve(PhysMem.PMD_ORDER)));
    }

    /** The PTE table for a shmem page at hva, installing an empty one if needed. */
    PteTable filePteTable(long hva) {
        PteTable t = pt.pteTable(hva);
        return t != null ? t : pt.installPteTable(hva, PteTable.empty());
    }

    /** A new anonymous 4K page for entry i of t: the table's reserved pfn if still unused, else a fresh one. */
    long allocAnonPage(PteTable t, int i) {
        long want = t.reservedPfn(i);
        if (want >= 0 && phys.allocReservedIfNeverUsed(want)) {
            return want;
        }
        return phys.alloc(0);
    }

    /** Maps a huge folio head at hva's aligned address as a PMD (2M) or PUD (1G) leaf. */
    void mapHugeLeaf(long hva, long head, long size) {
        if (size == HostPageTable.PUD_SIZE) {
            pt.setPudLeaf(hva & -size, head);
        } else {
            pt.setPmdLeaf(hva & -size, head);
        }
    }

    /**
     * Whether {@code handle_mm_fault} would hand a not-present hva to {@code handle_userfault()}
     * ({@code userfaultfd_missing()} / {@code userfaultfd_minor()}) or populate it. A file offset beyond
     * the end of the file is SIGBUS (EFAULT) either way.
     */
    private static Resolver resolver(Vma vma, long hva, String call) {
        if (vma.file != null) {
            MemFd f = vma.file;
            long off = vma.fileOffset(hva);
            if (off >= f.size()) {
                throw new SimKvmException(call, KvmErrno.EFAULT,
                        String.format("0x%x is beyond the end of %s (SIGBUS)", hva, f.name()));
            }
            if (f.lookup(off / f.pageSize()) >= 0) {
                return vma.uffdMinor ? Resolver.UFFD_MINOR : Resolver.FAULT;
            }
            return vma.uffdMissing ? Resolver.UFFD_MISSING : Resolver.FAULT;
        }
        return vma.uffdMissing ? Resolver.UFFD_MISSING : Resolver.FAULT;
    }

    /**
     * The bytes of the folio {@code handle_mm_fault} allocates and zeroes for a not-present hva that needs no
     * userfault (0: it maps a page already in the page cache).
     */
    private long populateBytes(Vma vma, long hva) {
        if (vma.file != null) {
            MemFd f = vma.file;
            return f.lookup(vma.fileOffset(hva) / f.pageSize()) >= 0 ? 0 : f.pageSize();
        }
        if (vma.isHugetlb()) {
            return vma.pageSize();
        }
        return vma.backing == Backing.ANON_THP && thpSuitable(vma, hva) && pt.walk(hva).pmdNone()
                ? HostPageTable.PMD_SIZE : PAGE;
    }

    /**
     * Populates a not-present hva that needs no userfault, as populateBytes() sized it; returns the 4K pfn at
     * hva and leaves the new leaf in leafPfn / leafLevel. {@code w} is the walk that
     * found hva not present, with nothing changed since.
     */
    private long populate(Vma vma, long hva, PageWalk w) {
        if (vma.file != null) {
            MemFd f = vma.file;
            long index = vma.fileOffset(hva) / f.pageSize();
            long head = f.lookup(index);
            mapFolio(vma, hva, head >= 0 ? head : f.create(index));
        } else if (vma.isHugetlb()) {
            long ps = vma.pageSize();
            mapHugeLeaf(hva, phys.allocHugetlb(ps == HostPageTable.PUD_SIZE ? PhysMem.PUD_ORDER : PhysMem.PMD_ORDER), ps);
        } else if (vma.backing == Backing.ANON_THP && thpSuitable(vma, hva) && w.pmdNone()) {
            mapHugeLeaf(hva, phys.alloc(PhysMem.PMD_ORDER), HostPageTable.PMD_SIZE);
        } else {
            PteTable t = w.pte != null ? w.pte : anonPteTable(hva);
            int i = HostPageTable.pteIndex(hva);
            long pfn = allocAnonPage(t, i);
            pt.setPte(t, i, pfn);
            leafPfn = pfn;
            leafLevel = HostPageTable.PG_LEVEL_4K;
            return pfn; // without walking again
        }
        PageWalk after = pt.walk(hva);
        leafPfn = after.pfn();
        leafLevel = after.level;
        return leafPfn;
    }

    /** Maps a page-cache folio of vma's file at hva at the file's page size ({@code finish_fault()}). */
    private void mapFolio(Vma vma, long hva, long head) {
        long ps = vma.pageSize();
        if (ps == PAGE) {
            pt.setPte(filePteTable(hva), HostPageTable.pteIndex(hva), head);
        } else {
            mapHugeLeaf(hva, head, ps);
        }
    }

    /** {@code thp_vma_suitable_order(vma, addr, PMD_ORDER)}: the aligned 2M range lies inside the VMA. */
    private static boolean thpSuitable(Vma vma, long hva) {
        long h = hva & -HostPageTable.PMD_SIZE;
        return h >= vma.start && h + HostPageTable.PMD_SIZE <= vma.end;
    }
}
