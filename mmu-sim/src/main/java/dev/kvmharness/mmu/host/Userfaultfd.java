// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SharedResource;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.WaitQueue;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * A userfaultfd context ({@code struct userfaultfd_ctx}, fs/userfaultfd.c) with the resolving ioctls of
 * mm/userfaultfd.c. Faults in registered ranges queue a {@link UffdMsg} and sleep; handler threads
 * {@link #read} the messages (one reader per message, oldest first, like {@code EPOLLEXCLUSIVE} readers) and
 * resolve them with {@link #copy}, {@link #zeropage} or {@link #cont}, which wake the faulting threads whose
 * address they cover; those then retry their fault.
 *
 * <p>Kernel behaviour kept on purpose: registration splits VMAs and replaces the modes of a range this
 * context already owns (another context's range is EBUSY); unregistering wakes waiters only on MISSING
 * ranges; a resolving ioctl wakes only this context's waiters; munmap wakes nobody. The ioctls return the
 * number of bytes done: a short count is what the kernel reports as EAGAIN with {@code copy}/{@code zeropage}/
 * {@code mapped} set; an error before the first page throws.
 */
public final class Userfaultfd implements AutoCloseable {
    private enum Fill { COPY, ZEROPAGE, CONTINUE }

    private static final long PAGE = PhysMem.PAGE_SIZE;

    private final HostMm mm;
    private final SimScheduler sched;
    /** {@code fault_pending_wqh}: faults whose message nobody has read yet, oldest first. */
    private final ArrayDeque<UffdFault> pending = new ArrayDeque<>();
    /** {@code fault_wqh}: faults whose message was read, still waiting to be woken. */
    private final List<UffdFault> reading = new ArrayList<>();
    private final WaitQueue readers;
    /**
     * The cache line of the context's wait-queue spinlock ({@code fault_pending_wqh.lock}): the faulting
     * thread queues its message under it, a reader dequeues it, UFFDIO_COPY's wake takes it again. With one
     * context per vCPU the line passes between a vCPU and its reader; with one shared context, among all.
     */
    private final SharedResource queueLine;
    private boolean closed;

    private long faultsRaised;
    private long minorFaults;
    private long pagesCopied;
    private long pagesZeroed;
    private long pagesContinued;
    private long[] waitNs = new long[16];
    private int waits;

    Userfaultfd(HostMm mm, SimScheduler sched) {
        this.mm = mm;
        this.sched = sched;
        this.readers = sched.newWaitQueue("userfaultfd readers");
        this.queueLine = sched.newSharedResource("userfaultfd wait queue");
    }

    /**
     * {@code UFFDIO_REGISTER}: MISSING on anonymous, shmem or hugetlb VMAs; MINOR only on shmem or hugetlb
     * (EINVAL otherwise). EINVAL also for an empty mode, a misaligned or empty range, a range without any VMA
     * or hugetlb boundaries inside a huge page; EBUSY if another userfaultfd owns part of the range.
     */
    public void register(long start, long len, UffdMode... modes) {
        enter();
        boolean missing = Arrays.asList(modes).contains(UffdMode.MISSING);
        boolean minor = Arrays.asList(modes).contains(UffdMode.MINOR);
        if (!missing && !minor) {
            throw new SimKvmException("UFFDIO_REGISTER", KvmErrno.EINVAL, "no mode");
        }
        HostMm.checkRange("UFFDIO_REGISTER", start, len);
        long end = start + len;
        List<Vma> vmas = mm.vmas().intersecting(start, end);
        checkHugetlbEdges("UFFDIO_REGISTER", vmas, start, end);
        for (Vma v : vmas) {
            if (minor && !v.isHugetlb() && !v.isShmem()) {
                throw new SimKvmException("UFFDIO_REGISTER", KvmErrno.EINVAL, "MINOR needs shmem or hugetlb: " + v);
            }
            if (v.uffd != null && v.uffd != this) {
                throw new SimKvmException("UFFDIO_REGISTER", KvmErrno.EBUSY, v + " belongs to another userfaultfd");
            }
        }
        mm.vmas().splitAt(start);
        mm.vmas().splitAt(end);
        for (Vma v : mm.vmas().intersecting(start, end)) {
            if (v.uffd == this && (!missing || v.uffdMissing) && (!minor || v.uffdMinor)) {
                continue; // already registered with (at least) these modes: the kernel leaves it alone
            }
            v.uffd = this;
            v.uffdMissing = missing;
            v.uffdMinor = minor;
        }
        mm.vmas().mergeAround(start, end);
    }

    /**
     * {@code UFFDIO_UNREGISTER}: clears the registration of every VMA in the range, whichever userfaultfd owns
     * it (as the kernel does), waking the waiters of MISSING ranges so they retry as ordinary faults. Waiters
     * on MINOR-only ranges keep sleeping until a wake, continue or close, as in 6.12.
     */
    public void unregister(long start, long len) {
        enter();
        HostMm.checkRange("UFFDIO_UNREGISTER", start, len);
        long end = start + len;
        List<Vma> vmas = mm.vmas().intersecting(start, end);
        checkHugetlbEdges("UFFDIO_UNREGISTER", vmas, start, end);
        mm.vmas().splitAt(start);
        mm.vmas().splitAt(end);
        for (Vma v : mm.vmas().intersecting(start, end)) {
            if (v.uffd == null) {
                continue;
            }
            if (v.uffdMissing) {
                v.uffd.wakeRange(v.start, v.end - v.start);
            }
            v.uffd = null;
            v.uffdMissing = false;
            v.uffdMinor = false;
        }
        mm.vmas().mergeAround(start, end);
    }

    /**
     * {@code read()}: blocks (in virtual time) until a fault message is pending, the deadline (absolute ns)
     * passes, or the userfaultfd is closed; returns null in the last two cases.
     */
    public UffdMsg read(long deadlineNs) {
        if (closed) {
            return null;
        }
        boolean ready = readers.await(() -> closed || !pending.isEmpty(), deadlineNs);
        if (!ready || closed) {
            return null;
        }
        UffdFault f = pending.pollFirst();
        queueLine.atomic();
        reading.add(f);
        sched.charge(Cost.UFFD_READ);
        return f.msg;
    }

    /** {@code UFFDIO_COPY} of len bytes, every byte {@code fill}; returns the bytes copied. */
    public long copy(long dst, long len, byte fill) {
        return mfill("UFFDIO_COPY", Fill.COPY, dst, len, fill, null);
    }

    /** {@code UFFDIO_COPY} of src (its length a multiple of the page size); returns the bytes copied. */
    public long copy(long dst, byte[] src) {
        return mfill("UFFDIO_COPY", Fill.COPY, dst, src.length, (byte) 0, src);
    }

    /** {@code UFFDIO_ZEROPAGE} (not on hugetlb: EINVAL); returns the bytes mapped. */
    public long zeropage(long dst, long len) {
        return mfill("UFFDIO_ZEROPAGE", Fill.ZEROPAGE, dst, len, (byte) 0, null);
    }

    /**
     * {@code UFFDIO_CONTINUE}: maps pages already in the page cache. EFAULT for a page that is not cached,
     * EEXIST if already mapped, EINVAL on anonymous (non-hugetlb) memory; returns the bytes mapped.
     */
    public long cont(long start, long len) {
        return mfill("UFFDIO_CONTINUE", Fill.CONTINUE, start, len, (byte) 0, null);
    }

    /** {@code UFFDIO_WAKE}: wakes this context's faults in the range without resolving anything. */
    public void wake(long start, long len) {
        enter();
        HostMm.checkRange("UFFDIO_WAKE", start, len);
        wakeRange(start, len);
    }

    /**
     * {@code close()} ({@code userfaultfd_release}): drops every registration of this context, wakes all its
     * faults (they retry as ordinary faults) and all blocked readers (they get null). Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        mm.userfaults().releaseAll(this);
        wakeRange(0, 0);
        readers.wakeAll();
        mm.userfaults().forget(this);
    }

    public boolean isClosed() {
        return closed;
    }

    /** Messages queued and not yet read. */
    public int pendingMessages() {
        return pending.size();
    }

    /** Faults that queued a message, MISSING and MINOR. */
    public long faultsRaised() {
        return faultsRaised;
    }

    public long minorFaults() {
        return minorFaults;
    }

    /** 4 KiB pages filled by UFFDIO_COPY. */
    public long pagesCopied() {
        return pagesCopied;
    }

    /** 4 KiB pages mapped by UFFDIO_ZEROPAGE. */
    public long pagesZeroed() {
        return pagesZeroed;
    }

    /** 4 KiB pages mapped by UFFDIO_CONTINUE. */
    public long pagesContinued() {
        return pagesContinued;
    }

    /**
     * Virtual ns each completed wait took, in completion order: from queueing the message to the faulting
     * thread running again after its wake-up (which includes {@link Cost#UFFD_WAKE}).
     */
    public long[] waitTimesNs() {
        return Arrays.copyOf(waitNs, waits);
    }

    // ---- for MemoryFault (handle_userfault) ----

    /** Queues a fault message and wakes one reader; returns the wait entry the faulting thread sleeps on. */
    UffdFault raise(UffdMsg msg, WaitQueue queue) {
        queueLine.atomic();
        UffdFault f = new UffdFault(msg, queue, sched.now());
        pending.addLast(f);
        faultsRaised++;
        if (msg.minor()) {
            minorFaults++;
        }
        readers.wakeOne();
        return f;
    }

    void recordWait(long ns) {
        if (waits == waitNs.length) {
            waitNs = Arrays.copyOf(waitNs, waits * 2);
        }
        waitNs[waits++] = ns;
    }

    // ---- internals ----

    private void enter() {
        if (closed) {
            throw new IllegalStateException("the userfaultfd is closed");
        }
        sched.charge(Cost.IOCTL);
        sched.yieldPoint();
    }

    /** {@code wake_userfault()}: wakes the faults whose message address lies in [start, start + len); len 0: all. */
    private void wakeRange(long start, long len) {
        wakeIn(pending.iterator(), start, len);
        wakeIn(reading.iterator(), start, len);
    }

    private static void wakeIn(Iterator<UffdFault> it, long start, long len) {
        while (it.hasNext()) {
            UffdFault f = it.next();
            long a = f.msg.address();
            if (len == 0 || (a >= start && a - start < len)) {
                it.remove();
                f.woken = true;
                f.queue.wakeAll();
            }
        }
    }

    private static void checkHugetlbEdges(String call, List<Vma> vmas, long start, long end) {
        if (vmas.isEmpty()) {
            throw new SimKvmException(call, KvmErrno.EINVAL, "no mapping in the range");
        }
        Vma first = vmas.get(0);
        if (first.isHugetlb() && start % first.pageSize() != 0) {
            throw new SimKvmException(call, KvmErrno.EINVAL, "start is not aligned to the hugetlb page size");
        }
        for (Vma v : vmas) {
            if (v.isHugetlb() && end > v.start && end < v.end && end % v.pageSize() != 0) {
                throw new SimKvmException(call, KvmErrno.EINVAL, "end is not aligned to the hugetlb page size");
            }
        }
    }

    /** {@code mfill_atomic()}: the shared body of COPY, ZEROPAGE and CONTINUE. */
    private long mfill(String call, Fill mode, long dst, long len, byte fill, byte[] src) {
        long start = sched.now();
        try {
            return mfillTimed(call, mode, dst, len, fill, src);
        } finally {
            mm.addUffdFillNs(sched.now() - start);
        }
    }

    private long mfillTimed(String call, Fill mode, long dst, long len, byte fill, byte[] src) {
        enter();
        HostMm.checkRange(call, dst, len);
        MmapLock mmapLock = mm.mmapLock();
        mmapLock.readLock(); // mfill_atomic: the range is filled under mmap_lock (the VMA lock since 6.8)
        long done;
        try {
            Vma vma = mm.vmas().find(dst);
            if (vma == null || dst + len > vma.end || vma.uffd == null) {
                throw new SimKvmException(call, KvmErrno.ENOENT,
                        String.format("[0x%x, 0x%x) is not inside one registered VMA", dst, dst + len));
            }
            long unit = vma.isHugetlb() ? vma.pageSize() : PAGE;
            if (vma.isHugetlb()) {
                if (mode == Fill.ZEROPAGE) {
                    throw new SimKvmException(call, KvmErrno.EINVAL, "no zeropage on hugetlb");
                }
                if (dst % unit != 0 || len % unit != 0) {
                    throw new SimKvmException(call, KvmErrno.EINVAL, "range is not in whole hugetlb pages of " + unit);
                }
            } else if (mode == Fill.CONTINUE && !vma.isShmem()) {
                throw new SimKvmException(call, KvmErrno.EINVAL, "CONTINUE on anonymous memory");
            }
            done = 0;
            SimKvmException error = null;
            for (; done < len; done += unit) {
                // pay for the page, let threads behind in time run, then check and publish it
                if (mode == Fill.CONTINUE) {
                    sched.charge(Cost.GUP_FAST);
                } else {
                    PageAllocator pages = mm.pageAllocator();
                    if (vma.isHugetlb()) {
                        pages.allocHugetlb();
                    } else {
                        pages.allocPage();
                    }
                    if (mode == Fill.COPY) {
                        pages.copy(unit / PAGE);
                    } else {
                        pages.zero(unit / PAGE);
                    }
                }
                sched.yieldPoint();
                long a = dst + done;
                Vma now = mm.vmas().find(a);
                try {
                    if (now == null || now.uffd == null || now.isHugetlb() != vma.isHugetlb()) {
                        throw new SimKvmException(call, KvmErrno.ENOENT, hex(a) + " is no longer registered");
                    }
                    fillOne(call, mode, now, a, unit, fill, src, (int) done);
                } catch (SimKvmException e) {
                    error = e;
                    break;
                }
            }
            if (done == 0) {
                throw error;
            }
        } finally {
            mmapLock.readUnlock();
        }
        long pages = done / PAGE;
        switch (mode) {
            case COPY:
                pagesCopied += pages;
                break;
            case ZEROPAGE:
                pagesZeroed += pages;
                break;
            default:
                pagesContinued += pages;
                break;
        }
        queueLine.atomic(); // wake_userfault() takes the wait queue's lock
        wakeRange(dst, done);
        return done;
    }

    /**
     * One page (or hugetlb page) of mfill_atomic: checks in the kernel's order, then maps. Its cost was charged
     * before: a page that fails with EEXIST has still paid for its allocation and copy, as anonymous memory
     * does in the kernel.
     */
    private void fillOne(String call, Fill mode, Vma vma, long a, long unit, byte fill, byte[] src, int srcOff) {
        PhysMem phys = mm.phys();
        HostPageTable pt = mm.pt();
        if (vma.isHugetlb()) {
            boolean mapped = pt.walk(a).mapped();
            long index = vma.file == null ? -1 : vma.fileOffset(a) / unit;
            long head;
            if (mode == Fill.CONTINUE) {
                head = vma.file == null ? -1 : vma.file.lookup(index);
                if (head < 0) {
                    throw new SimKvmException(call, KvmErrno.EFAULT, "no page cache page to continue at " + hex(a));
                }
                if (mapped) {
                    throw new SimKvmException(call, KvmErrno.EEXIST, hex(a) + " is already mapped");
                }
            } else {
                if (mapped || (vma.file != null && vma.file.lookup(index) >= 0)) {
                    throw new SimKvmException(call, KvmErrno.EEXIST, hex(a) + " already has a page");
                }
                if (vma.file != null && vma.fileOffset(a) >= vma.file.size()) {
                    throw new SimKvmException(call, KvmErrno.EFAULT, hex(a) + " is beyond the end of the file");
                }
                int order = unit == HostPageTable.PUD_SIZE ? PhysMem.PUD_ORDER : PhysMem.PMD_ORDER;
                head = vma.file != null ? vma.file.create(index) : phys.allocHugetlb(order);
                for (long p = 0; p < unit / PAGE; p++) {
                    store(phys, head + p, fill, src, srcOff + (int) (p * PAGE));
                }
                phys.markDirty(head);
            }
            mm.faults().mapHugeLeaf(a, head, unit);
            return;
        }
        int i = HostPageTable.pteIndex(a);
        if (vma.isAnonymous()) {
            if (pt.pmdLeaf(a) >= 0) {
                throw new SimKvmException(call, KvmErrno.EEXIST, hex(a) + " is inside a transparent huge page");
            }
            PteTable t = mm.faults().anonPteTable(a);
            if (t.isPresent(i)) {
                throw new SimKvmException(call, KvmErrno.EEXIST, hex(a) + " is already mapped");
            }
            long pfn = mm.faults().allocAnonPage(t, i);
            if (mode == Fill.COPY) {
                store(phys, pfn, fill, src, srcOff);
                phys.markDirty(pfn);
            }
            pt.setPte(t, i, pfn);
            return;
        }
        MemFd file = vma.file;
        long off = vma.fileOffset(a);
        long index = off / PAGE;
        if (mode == Fill.CONTINUE) {
            if (off >= file.size()) {
                throw new SimKvmException(call, KvmErrno.EINVAL, hex(a) + " is beyond the end of the file");
            }
            long pfn = file.lookup(index);
            if (pfn < 0) {
                throw new SimKvmException(call, KvmErrno.EFAULT, "no page cache page to continue at " + hex(a));
            }
            PteTable t = mm.faults().filePteTable(a);
            if (t.isPresent(i)) {
                throw new SimKvmException(call, KvmErrno.EEXIST, hex(a) + " is already mapped");
            }
            pt.setPte(t, i, pfn);
            return;
        }
        if (off >= file.size()) {
            throw new SimKvmException(call, KvmErrno.EFAULT, hex(a) + " is beyond the end of the file");
        }
        PteTable t = mm.faults().filePteTable(a);
        if (file.lookup(index) >= 0 || t.isPresent(i)) {
            throw new SimKvmException(call, KvmErrno.EEXIST, hex(a) + " already has a page");
        }
        long pfn = file.create(index);
        if (mode == Fill.COPY) {
            store(phys, pfn, fill, src, srcOff);
        }
        phys.markDirty(pfn);
        pt.setPte(t, i, pfn);
    }

    private static void store(PhysMem phys, long pfn, byte fill, byte[] src, int srcOff) {
        if (src != null) {
            phys.writeBytes(pfn, 0, src, srcOff, (int) PAGE);
        } else {
            phys.fill(pfn, 0, (int) PAGE, fill);
        }
    }

    private static String hex(long a) {
        return "0x" + Long.toHexString(a);
    }
}
