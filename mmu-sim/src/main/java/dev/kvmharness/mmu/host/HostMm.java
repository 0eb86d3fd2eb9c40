// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.WaitQueue;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code struct mm_struct} of the simulated VMM process: its VMAs, its page tables, the MMU notifiers KVM
 * registers on it, and its userfaultfds. Guest memory is host memory mapped here, so bytes written by the host
 * side through an hva are the bytes the simulated guest reads through KVM's pfn, exactly as with real KVM.
 *
 * <p>Pages are populated on first touch, by a host access ({@link #read}, {@link #write}, {@link #fill}) or by
 * KVM's {@code get_user_pages()} ({@link #faultIn}). Like {@code mm_forbids_zeropage()} mms the model never
 * maps the shared zero page: a read fault allocates a zeroed page too (it holds no bytes until written).
 *
 * <p>A call changes shared state only after a scheduling point (a fault first charges what populating costs
 * and yields, then re-checks and maps), and then atomically, except where the kernel can sleep and let others
 * in: inside MMU notifier callbacks (KVM takes its mmu_lock there) and while a fault waits for a userfaultfd.
 * {@code mmap_lock} is not modelled beyond that: munmap detaches its VMAs before it calls notifiers, so a
 * concurrent fault on the range already sees no VMA.
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
    private static final long MMAP_MIN = 1L << 32;
    private static final long MMAP_GAP = HostPageTable.PMD_SIZE;
    private static final long PAGE = PhysMem.PAGE_SIZE;
    private static final long UFFD_MISSING = -2;
    private static final long UFFD_MINOR = -3;
    /** fault() with FOLL_NOWAIT would have had to wait for a userfaultfd. */
    private static final long NOWAIT_RETRY = -1;

    private final SimScheduler sched;
    private final PhysMem phys;
    private final TreeMap<Long, Vma> vmas = new TreeMap<>();
    /**
     * The VMA the last lookup found, like the kernel's per-mm vmacache: faults come in runs over one mapping.
     * Dropped whenever the tree changes; a cached VMA only shrinks (split) or grows (merge) while in the tree,
     * and {@link #vmaAt} re-checks its bounds.
     */
    private Vma vmaCache;
    private HostPageTable pt = new HostPageTable();
    private final List<MmuNotifierOps> notifiers = new ArrayList<>();
    private final List<Userfaultfd> uffds = new ArrayList<>();
    /** Each faulting thread waits for its userfault on its own queue (looked up only, never iterated). */
    private final IdentityHashMap<Thread, WaitQueue> faultQueues = new IdentityHashMap<>();
    private long mmapTop = MMAP_BASE;
    private long nextOrigin = 1;
    private boolean closed;
    private long faultsHandled;

    public HostMm(SimScheduler sched, PhysMem phys) {
        this.sched = sched;
        this.phys = phys;
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
        sched.yieldPoint();
        if (len <= 0 || len % backing.pageSize() != 0) {
            throw new SimKvmException("mmap", KvmErrno.EINVAL,
                    "length " + len + " is not a positive multiple of the " + backing + " page size");
        }
        long start = allocVa(len, Math.max(backing.alignment(), HostPageTable.PMD_SIZE), 0);
        vmaCache = null;
        vmas.put(start, new Vma(start, start + len, backing, null, 0, writable, nextOrigin++));
        return start;
    }

    /** {@code mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset)} of a memfd. */
    public long mmap(long len, MemFd file, long offset) {
        return mmap(len, file, offset, true);
    }

    /** Shared file mapping; several mappings of one file alias the same pages. */
    public long mmap(long len, MemFd file, long offset, boolean writable) {
        checkOpen();
        sched.yieldPoint();
        long ps = file.pageSize();
        if (len <= 0 || len % ps != 0) {
            throw new SimKvmException("mmap", KvmErrno.EINVAL,
                    "length " + len + " is not a positive multiple of the file's page size " + ps);
        }
        if (offset < 0 || offset % ps != 0) {
            throw new SimKvmException("mmap", KvmErrno.EINVAL, "offset " + offset + " is not aligned to " + ps);
        }
        long align = Math.max(ps, HostPageTable.PMD_SIZE);
        file.get();
        long start = allocVa(len, align, offset % align);
        vmaCache = null;
        vmas.put(start, new Vma(start, start + len, null, file, offset, writable, nextOrigin++));
        return start;
    }

    /**
     * {@code munmap()}: detaches the VMAs, then announces [hva, hva + len) to the notifiers, unmaps, frees
     * anonymous pages (file pages stay cached) and page tables no other VMA uses, and ends the notification.
     * A range without any VMA is a successful no-op without notifications, as in the kernel.
     */
    public void munmap(long hva, long len) {
        checkOpen();
        sched.yieldPoint();
        if ((hva & (PAGE - 1)) != 0 || hva > TASK_SIZE || len > TASK_SIZE - hva || len <= 0) {
            throw new SimKvmException("munmap", KvmErrno.EINVAL, String.format("bad range 0x%x + 0x%x", hva, len));
        }
        long end = hva + pageAlign(len);
        List<Vma> hit = vmasIn(hva, end);
        if (hit.isEmpty()) {
            return;
        }
        for (Vma v : hit) {
            checkHugetlbSplit("munmap", v, hva);
            checkHugetlbSplit("munmap", v, end);
        }
        splitAt(hva);
        splitAt(end);
        hit = vmasIn(hva, end);
        vmaCache = null;
        for (Vma v : hit) {
            vmas.remove(v.start);
        }
        invalidateRangeStart(hva, end);
        for (Vma v : hit) {
            zap(v, v.start, v.end);
        }
        freePgtables(hva, end);
        invalidateRangeEnd(hva, end);
        for (Vma v : hit) {
            if (v.file != null) {
                v.file.put();
            }
        }
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
        sched.yieldPoint();
        checkRange("mprotect", hva, pageAlign(len));
        long end = hva + pageAlign(len);
        List<Vma> hit = vmasIn(hva, end);
        long covered = hva;
        for (Vma v : hit) {
            if (v.start > covered) {
                break;
            }
            covered = v.end;
        }
        if (hit.isEmpty() || covered < end) {
            throw new SimKvmException("mprotect", KvmErrno.ENOMEM, "part of the range is not mapped");
        }
        for (Vma v : hit) {
            checkHugetlbSplit("mprotect", v, hva);
            checkHugetlbSplit("mprotect", v, end);
        }
        splitAt(hva);
        splitAt(end);
        vmaCache = null;
        for (Vma v : vmasIn(hva, end)) {
            v.writable = writable;
        }
        invalidateRangeStart(hva, end);
        invalidateRangeEnd(hva, end);
        mergeAround(hva, end);
    }

    /**
     * {@code madvise(MADV_DONTNEED)}: per VMA, a notifier pair around zapping its part of the range.
     * Anonymous pages are freed (the next touch gets a new zeroed page with a new pfn), file pages stay in
     * the page cache. Hugetlb: start must be huge-page aligned, the end is rounded down. Holes in the range
     * give ENOMEM after the mapped parts were handled.
     */
    public void madviseDontneed(long hva, long len) {
        checkOpen();
        sched.yieldPoint();
        if ((hva & (PAGE - 1)) != 0 || len < 0 || len > TASK_SIZE - hva) {
            throw new SimKvmException("madvise", KvmErrno.EINVAL, String.format("bad range 0x%x + 0x%x", hva, len));
        }
        long end = hva + pageAlign(len);
        boolean hole = false;
        long covered = hva;
        for (Vma v : vmasIn(hva, end)) {
            if (v.start > covered) {
                hole = true;
            }
            long vmaEnd = v.end;
            long s = Math.max(hva, v.start);
            long e = Math.min(end, v.end);
            if (v.isHugetlb()) {
                if (s % v.pageSize() != 0) {
                    throw new SimKvmException("madvise", KvmErrno.EINVAL,
                            String.format("0x%x is not aligned to the hugetlb page size", s));
                }
                e = e & -v.pageSize();
            }
            if (s < e) {
                invalidateRangeStart(s, e);
                zap(v, s, e);
                invalidateRangeEnd(s, e);
            }
            covered = vmaEnd;
        }
        if (hole || covered < end) {
            throw new SimKvmException("madvise", KvmErrno.ENOMEM, "part of the range is not mapped");
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
        long r = fault(hva, write, false, false, "get_user_pages");
        return new FaultResult(r >>> 3, (int) (r >>> 1) & 3, (r & 1) != 0);
    }

    /**
     * {@code FOLL_NOWAIT} (KVM's async-page-fault attempt): like {@link #faultIn} but returns null instead of
     * waiting for a userfaultfd; no fault message is queued then.
     */
    public FaultResult faultInNoWait(long hva, boolean write) {
        long r = fault(hva, write, true, false, "get_user_pages");
        return r == NOWAIT_RETRY ? null : new FaultResult(r >>> 3, (int) (r >>> 1) & 3, (r & 1) != 0);
    }

    /** {@code host_pfn_mapping_level()}: 0 if hva is not mapped, else 1 (4K), 2 (2M) or 3 (1G). Never faults. */
    public int mappingLevel(long hva) {
        long e = pt.lookup(hva);
        return e == HostPageTable.NOT_MAPPED ? 0 : (int) (e & 3);
    }

    /** The pfn mapped at hva without faulting, or -1. */
    public long pfnIfMapped(long hva) {
        long e = pt.lookup(hva);
        return e == HostPageTable.NOT_MAPPED ? -1 : e >>> 2;
    }

    // ---- host accesses (the VMM touching guest memory through its mapping) ----

    /** A user-mode load of width 1, 2, 4 or 8 bytes at hva (little-endian), faulting like a user access. */
    public long read(long hva, int width) {
        checkWidth(width);
        int off = (int) (hva & (PAGE - 1));
        if (off + width <= PAGE) {
            return phys.read(userPage(hva, false), off, width);
        }
        long v = 0;
        for (int i = 0; i < width; i++) {
            v |= read(hva + i, 1) << (8 * i);
        }
        return v;
    }

    public void write(long hva, int width, long value) {
        checkWidth(width);
        int off = (int) (hva & (PAGE - 1));
        if (off + width <= PAGE) {
            phys.write(userPage(hva, true), off, width, value);
            return;
        }
        for (int i = 0; i < width; i++) {
            write(hva + i, 1, value >>> (8 * i));
        }
    }

    /** {@code memset(hva, b, len)}. */
    public void fill(long hva, long len, byte b) {
        for (long done = 0; done < len;) {
            long a = hva + done;
            int off = (int) (a & (PAGE - 1));
            int n = (int) Math.min(len - done, PAGE - off);
            phys.fill(userPage(a, true), off, n, b);
            done += n;
        }
    }

    public void readBytes(long hva, byte[] dst, int dstOff, int len) {
        for (int done = 0; done < len;) {
            long a = hva + done;
            int off = (int) (a & (PAGE - 1));
            int n = (int) Math.min(len - done, PAGE - off);
            phys.readBytes(userPage(a, false), off, dst, dstOff + done, n);
            done += n;
        }
    }

    public void writeBytes(long hva, byte[] src, int srcOff, int len) {
        for (int done = 0; done < len;) {
            long a = hva + done;
            int off = (int) (a & (PAGE - 1));
            int n = (int) Math.min(len - done, PAGE - off);
            phys.writeBytes(userPage(a, true), off, src, srcOff + done, n);
            done += n;
        }
    }

    // ---- MMU notifiers and aging ----

    /** {@code mmu_notifier_register()}. */
    public void register(MmuNotifierOps ops) {
        checkOpen();
        notifiers.add(ops);
    }

    /** {@code mmu_notifier_unregister()}: calls release() for the subscriber, then forgets it. */
    public void unregister(MmuNotifierOps ops) {
        if (notifiers.remove(ops)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.release();
        }
    }

    /**
     * Page reclaim scanning [start, end) ({@code folio_referenced} with {@code ptep_clear_flush_young_notify}):
     * test-and-clears the host PTEs' Accessed bits and asks the notifiers to clear theirs; true if anything
     * was young.
     */
    public boolean ageRange(long start, long end) {
        boolean young = clearHostYoung(start, end);
        for (MmuNotifierOps ops : List.copyOf(notifiers)) {
            sched.charge(Cost.HOST_NOTIFIER);
            young |= ops.clearFlushYoung(start, end);
        }
        return young;
    }

    /** Idle page tracking ({@code page_idle_clear_pte_refs}): like {@link #ageRange} without TLB flushes. */
    public boolean clearYoungRange(long start, long end) {
        boolean young = clearHostYoung(start, end);
        for (MmuNotifierOps ops : List.copyOf(notifiers)) {
            sched.charge(Cost.HOST_NOTIFIER);
            young |= ops.clearYoung(start, end);
        }
        return young;
    }

    /** khugepaged's {@code pte_young() || mmu_notifier_test_young()}. */
    public boolean testYoung(long hva) {
        boolean young = pt.isYoung(hva);
        for (MmuNotifierOps ops : List.copyOf(notifiers)) {
            sched.charge(Cost.HOST_NOTIFIER);
            young |= ops.testYoung(hva);
        }
        return young;
    }

    // ---- userfaultfd, teardown, accounting ----

    /** {@code userfaultfd(2)} + {@code UFFDIO_API}: a new context on this mm. */
    public Userfaultfd userfaultfd() {
        checkOpen();
        Userfaultfd u = new Userfaultfd(this, sched);
        uffds.add(u);
        return u;
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
        for (MmuNotifierOps ops : List.copyOf(notifiers)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.release();
        }
        notifiers.clear();
        for (Userfaultfd u : List.copyOf(uffds)) {
            u.close();
        }
        for (Vma v : List.copyOf(vmas.values())) {
            zap(v, v.start, v.end);
            if (v.file != null) {
                v.file.put();
            }
        }
        vmas.clear();
        vmaCache = null;
        pt = new HostPageTable();
        closed = true;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Number of VMAs (after splits and merges). */
    public int vmaCount() {
        return vmas.size();
    }

    /** Page faults that populated a page (handle_mm_fault doing work, not GUP-fast hits or uffd waits). */
    public long faultsHandled() {
        return faultsHandled;
    }

    /** Rough heap bytes of the host page tables. */
    public long pageTableBytes() {
        return pt.bytes();
    }

    // ---- package-private services for Userfaultfd ----

    HostPageTable pt() {
        return pt;
    }

    Vma vmaAt(long hva) {
        Vma c = vmaCache;
        if (c != null && hva >= c.start && hva < c.end) {
            return c;
        }
        Map.Entry<Long, Vma> e = vmas.floorEntry(hva);
        Vma v = e != null && hva < e.getValue().end ? e.getValue() : null;
        if (v != null) {
            vmaCache = v;
        }
        return v;
    }

    /** The VMAs intersecting [start, end), in address order. */
    List<Vma> vmasIn(long start, long end) {
        List<Vma> out = new ArrayList<>();
        Map.Entry<Long, Vma> first = vmas.floorEntry(start);
        Long from = first != null && first.getValue().end > start ? first.getKey() : Long.valueOf(start);
        for (Vma v : vmas.subMap(from, true, end, false).values()) {
            out.add(v);
        }
        return out;
    }

    /** {@code split_vma} at addr if a VMA strictly contains it. */
    void splitAt(long addr) {
        Vma v = vmaAt(addr);
        if (v != null && v.start < addr) {
            Vma tail = v.splitOff(addr);
            if (tail.file != null) {
                tail.file.get();
            }
            vmaCache = null;
            vmas.put(tail.start, tail);
        }
    }

    /** {@code vma_merge}: joins equal neighbours among the VMAs touching [start, end]. */
    void mergeAround(long start, long end) {
        Map.Entry<Long, Vma> e = vmas.lowerEntry(start); // the neighbour ending at start may merge too
        Vma prev = e != null ? e.getValue() : null;
        if (prev == null) {
            Map.Entry<Long, Vma> c = vmas.ceilingEntry(start);
            prev = c == null ? null : c.getValue();
        }
        while (prev != null && prev.start <= end) {
            Map.Entry<Long, Vma> n = vmas.higherEntry(prev.start);
            if (n == null) {
                return;
            }
            Vma next = n.getValue();
            if (prev.canMerge(next)) {
                vmaCache = null;
                vmas.remove(next.start);
                prev.end = next.end;
                if (next.file != null) {
                    next.file.put();
                }
            } else {
                prev = next;
            }
        }
    }

    /** userfaultfd_release_all for one context: clears its registrations and merges what became equal. */
    void clearUffd(Userfaultfd ctx) {
        for (Vma v : vmas.values()) {
            if (v.uffd == ctx) {
                v.uffd = null;
                v.uffdMissing = false;
                v.uffdMinor = false;
            }
        }
        if (!vmas.isEmpty()) {
            mergeAround(vmas.firstKey(), TASK_SIZE);
        }
    }

    void forget(Userfaultfd ctx) {
        uffds.remove(ctx);
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

    static int pteIndex(long hva) {
        return (int) ((hva >>> PhysMem.PAGE_SHIFT) & (PteTable.ENTRIES - 1));
    }

    static void checkRange(String call, long start, long len) {
        if ((start & (PAGE - 1)) != 0 || (len & (PAGE - 1)) != 0 || len == 0 || start >= TASK_SIZE
                || len > TASK_SIZE - start || len < 0) {
            throw new SimKvmException(call, KvmErrno.EINVAL, String.format("bad range 0x%x + 0x%x", start, len));
        }
    }

    // ---- internals ----

    private long allocVa(long len, long align, long colour) {
        long start = ((mmapTop - len - colour) & -align) + colour;
        if (len > mmapTop || start < MMAP_MIN) {
            throw new SimKvmException("mmap", KvmErrno.ENOMEM, "the simulated address space is exhausted");
        }
        mmapTop = start - MMAP_GAP;
        return start;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the mm was torn down");
        }
    }

    private static void checkWidth(int width) {
        if (width != 1 && width != 2 && width != 4 && width != 8) {
            throw new IllegalArgumentException("width " + width + " is not 1, 2, 4 or 8");
        }
    }

    private static long pageAlign(long len) {
        return (len + PAGE - 1) & -PAGE;
    }

    /** A hugetlb VMA can only be split at a huge page boundary ({@code hugetlb_vm_op_split}). */
    private static void checkHugetlbSplit(String call, Vma v, long addr) {
        if (v.isHugetlb() && v.start < addr && addr < v.end && addr % v.pageSize() != 0) {
            throw new SimKvmException(call, KvmErrno.EINVAL,
                    String.format("0x%x would split a %d-byte hugetlb page", addr, v.pageSize()));
        }
    }

    /** The pfn behind a user access at hva; the common case (mapped, permitted) allocates nothing. */
    private long userPage(long hva, boolean write) {
        Vma vma = vmaAt(hva);
        if (vma != null && (vma.writable || !write)) {
            long e = pt.touch(hva);
            if (e != HostPageTable.NOT_MAPPED) {
                if (write) {
                    phys.markDirty(e >>> 2);
                }
                return e >>> 2;
            }
        }
        return fault(hva, write, false, true, "host access") >>> 3;
    }

    /**
     * The fault loop. Work that changes shared state follows one pattern: decide, charge its cost, yield (so
     * every thread still behind in virtual time runs first), then check again and publish; a thread therefore
     * never sees a page or a fault message from its future.
     *
     * <p>Returns the {@link FaultResult} packed into a long, {@code (pfn << 2 | level) << 1 | writable}, so the
     * hot path allocates nothing: {@link #faultIn} builds the record where the JIT can scalar-replace it.
     * {@link #NOWAIT_RETRY} stands for "would wait for a userfault".
     */
    private long fault(long hva, boolean write, boolean noWait, boolean user, String call) {
        if (closed) {
            throw new SimKvmException(call, KvmErrno.EFAULT, "the mm was torn down");
        }
        boolean populatePaid = false;
        boolean userfaultPaid = false;
        for (;;) {
            Vma vma = vmaAt(hva);
            if (vma == null) {
                throw new SimKvmException(call, KvmErrno.EFAULT, String.format("no mapping at 0x%x", hva));
            }
            if (write && !vma.writable) {
                // Concatenation, not String.format: mmu_stress_test takes this path once per page.
                throw new SimKvmException(call, KvmErrno.EFAULT, "0x" + Long.toHexString(hva) + " is mapped read-only");
            }
            long e = user ? pt.touch(hva) : pt.lookup(hva);
            if (e != HostPageTable.NOT_MAPPED) {
                if (!user) {
                    sched.charge(Cost.GUP_FAST);
                } else if (write) {
                    phys.markDirty(e >>> 2);
                }
                return e << 1 | (vma.writable ? 1 : 0);
            }
            long need = populateBytes(vma, hva, call);
            if (need == UFFD_MISSING || need == UFFD_MINOR) {
                if (noWait) {
                    return NOWAIT_RETRY; // FAULT_FLAG_RETRY_NOWAIT: handle_userfault returns before queueing a message
                }
                if (!userfaultPaid) {
                    userfaultPaid = true;
                    sched.charge(Cost.UFFD_FAULT);
                    sched.yieldPoint();
                    continue; // userfaultfd_must_wait(): look again before queueing
                }
                userfault(vma, hva, write, need == UFFD_MINOR);
                userfaultPaid = false;
                continue; // VM_FAULT_RETRY
            }
            if (!populatePaid) {
                populatePaid = true;
                if (need == 0) {
                    sched.charge(Cost.GUP_FAST); // only a page-table update: the page is in the cache
                } else {
                    sched.charge(Cost.HOST_PAGE_ALLOC);
                    sched.charge(Cost.HOST_PAGE_ZERO, need / PAGE);
                }
                sched.yieldPoint();
                continue;
            }
            e = populate(vma, hva);
            faultsHandled++;
            long pfn = e >>> 2;
            if (user) {
                pt.touch(hva);
                if (write) {
                    phys.markDirty(pfn);
                }
            } else {
                phys.markTouched(pfn, write); // FOLL_TOUCH
            }
            return e << 1 | (vma.writable ? 1 : 0);
        }
    }

    /**
     * What {@code handle_mm_fault} would do for a not-present hva: UFFD_MISSING / UFFD_MINOR if a userfaultfd
     * must resolve it, else the bytes of the folio to allocate and zero (0: map a page already cached).
     */
    private long populateBytes(Vma vma, long hva, String call) {
        if (vma.file != null) {
            MemFd f = vma.file;
            long off = vma.fileOffset(hva);
            if (off >= f.size()) {
                throw new SimKvmException(call, KvmErrno.EFAULT,
                        String.format("0x%x is beyond the end of %s (SIGBUS)", hva, f.name()));
            }
            if (f.lookup(off / f.pageSize()) >= 0) {
                return vma.uffdMinor ? UFFD_MINOR : 0;
            }
            return vma.uffdMissing ? UFFD_MISSING : f.pageSize();
        }
        if (vma.uffdMissing) {
            return UFFD_MISSING;
        }
        if (vma.isHugetlb()) {
            return vma.pageSize();
        }
        return vma.backing == Backing.ANON_THP && thpSuitable(vma, hva) && pt.pmdNone(hva)
                ? HostPageTable.PMD_SIZE : PAGE;
    }

    /** Populates a not-present hva that needs no userfault, as populateBytes() decided; returns lookup(hva). */
    private long populate(Vma vma, long hva) {
        if (vma.file != null) {
            MemFd f = vma.file;
            long index = vma.fileOffset(hva) / f.pageSize();
            long head = f.lookup(index);
            mapFolio(vma, hva, head >= 0 ? head : f.create(index));
        } else if (vma.isHugetlb()) {
            long ps = vma.pageSize();
            mapHugeLeaf(hva, phys.alloc(ps == HostPageTable.PUD_SIZE ? PhysMem.PUD_ORDER : PhysMem.PMD_ORDER), ps);
        } else if (vma.backing == Backing.ANON_THP && thpSuitable(vma, hva) && pt.pmdNone(hva)) {
            mapHugeLeaf(hva, phys.alloc(PhysMem.PMD_ORDER), HostPageTable.PMD_SIZE);
        } else {
            PteTable t = anonPteTable(hva);
            int i = pteIndex(hva);
            long pfn = allocAnonPage(t, i);
            t.set(i, pfn);
            return pfn << 2 | HostPageTable.LEVEL_4K; // what lookup(hva) now finds, without walking again
        }
        return pt.lookup(hva);
    }

    /** Maps a page-cache folio of vma's file at hva at the file's page size. */
    private void mapFolio(Vma vma, long hva, long head) {
        long ps = vma.pageSize();
        if (ps == PAGE) {
            filePteTable(hva).set(pteIndex(hva), head);
        } else {
            mapHugeLeaf(hva, head, ps);
        }
    }

    /** {@code thp_vma_suitable_order(vma, addr, PMD_ORDER)}: the aligned 2M range lies inside the VMA. */
    private static boolean thpSuitable(Vma vma, long hva) {
        long h = hva & -HostPageTable.PMD_SIZE;
        return h >= vma.start && h + HostPageTable.PMD_SIZE <= vma.end;
    }

    /**
     * {@code handle_userfault()}: queue a message for the context's readers and sleep until a resolving
     * ioctl, UFFDIO_WAKE, unregistration or close wakes this fault; the caller then retries from scratch.
     */
    private void userfault(Vma vma, long hva, boolean write, boolean minor) {
        Userfaultfd ctx = vma.uffd;
        long address = hva & -(vma.isHugetlb() ? vma.pageSize() : PAGE);
        WaitQueue queue = faultQueues.computeIfAbsent(Thread.currentThread(),
                t -> sched.newWaitQueue("userfault " + t.getName()));
        UffdFault f = ctx.raise(new UffdMsg(address, hva, write, minor), queue);
        queue.await(() -> f.woken);
        sched.charge(Cost.UFFD_WAKE);
        ctx.recordWait(sched.now() - f.raisedAtNs);
    }

    /**
     * {@code unmap_page_range} over [s, e) of one VMA: clears leaves, frees anonymous folios. A THP only
     * partly inside the range is split first ({@code __split_huge_pmd}, with its own notifier pair).
     */
    private void zap(Vma vma, long s, long e) {
        boolean anon = vma.isAnonymous();
        long addr = s;
        while (addr < e) {
            long skip = pt.nextPopulated(addr);
            if (skip >= 0) {
                addr = skip;
                continue;
            }
            long pudHead = pt.pudLeaf(addr);
            if (pudHead >= 0) {
                long leaf = addr & -HostPageTable.PUD_SIZE;
                requireWhole(vma, leaf, HostPageTable.PUD_SIZE, s, e);
                pt.clearPudLeaf(leaf);
                if (anon) {
                    phys.free(pudHead, PhysMem.PUD_ORDER);
                }
                addr = leaf + HostPageTable.PUD_SIZE;
                continue;
            }
            long pmdEnd = Math.min((addr | (HostPageTable.PMD_SIZE - 1)) + 1, e);
            long pmdHead = pt.pmdLeaf(addr);
            if (pmdHead >= 0) {
                long leaf = addr & -HostPageTable.PMD_SIZE;
                if (leaf >= s && leaf + HostPageTable.PMD_SIZE <= e) {
                    pt.clearPmdLeaf(leaf);
                    if (anon) {
                        phys.free(pmdHead, PhysMem.PMD_ORDER);
                    }
                    addr = leaf + HostPageTable.PMD_SIZE;
                } else {
                    requireWhole(vma, leaf, HostPageTable.PMD_SIZE, s, e);
                    splitHugePmd(leaf, pmdHead);
                }
                continue;
            }
            PteTable t = pt.pteTable(addr);
            if (t != null) {
                for (long a = addr; a < pmdEnd; a += PAGE) {
                    int i = pteIndex(a);
                    if (t.isPresent(i)) {
                        long pfn = t.pfn(i);
                        t.clear(i);
                        if (anon) {
                            phys.free(pfn, 0);
                        }
                    }
                }
            }
            addr = pmdEnd;
        }
    }

    private static void requireWhole(Vma vma, long leaf, long size, long s, long e) {
        if (vma.isHugetlb() && (leaf < s || leaf + size > e)) {
            throw new IllegalStateException("partial unmap of a hugetlb page at 0x" + Long.toHexString(leaf));
        }
    }

    /**
     * {@code __split_huge_pmd} of an anonymous THP: the 2M leaf becomes a PTE table mapping the same 512
     * pfns. The folio is split at once too (the kernel defers that to its deferred-split shrinker), so the
     * subpages leaving the mapping can be freed one by one.
     */
    private void splitHugePmd(long leaf, long head) {
        invalidateRangeStart(leaf, leaf + HostPageTable.PMD_SIZE);
        if (pt.pmdLeaf(leaf) == head) {
            boolean young = pt.pmdLeafYoung(leaf);
            phys.splitPmdFolio(head);
            pt.replacePmdLeaf(leaf, PteTable.splitFrom(head, young));
        }
        invalidateRangeEnd(leaf, leaf + HostPageTable.PMD_SIZE);
    }

    /**
     * {@code free_pgtables}: drops the PTE tables of the unmapped range whose whole 2M lies between the
     * remaining neighbour VMAs (floor and ceiling), so a later THP can be mapped there again.
     */
    private void freePgtables(long start, long end) {
        Map.Entry<Long, Vma> below = vmas.lowerEntry(start);
        Map.Entry<Long, Vma> above = vmas.ceilingEntry(end);
        long floor = below == null ? 0 : below.getValue().end;
        long ceiling = above == null ? TASK_SIZE + PAGE : above.getKey();
        for (long r = start & -HostPageTable.PMD_SIZE; r < end; r += HostPageTable.PMD_SIZE) {
            long skip = pt.nextPopulated(r);
            if (skip >= 0) {
                r = (skip & -HostPageTable.PMD_SIZE) - HostPageTable.PMD_SIZE;
                continue;
            }
            if (r >= floor && r + HostPageTable.PMD_SIZE <= ceiling) {
                pt.freePteTable(r);
            }
        }
    }

    private boolean clearHostYoung(long start, long end) {
        boolean[] young = {false};
        pt.walk(start, end, (hva, level) -> young[0] |= pt.testAndClearYoung(hva));
        return young[0];
    }

    private void invalidateRangeStart(long start, long end) {
        for (MmuNotifierOps ops : List.copyOf(notifiers)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.invalidateRangeStart(start, end, true);
        }
    }

    private void invalidateRangeEnd(long start, long end) {
        for (MmuNotifierOps ops : List.copyOf(notifiers)) {
            sched.charge(Cost.HOST_NOTIFIER);
            ops.invalidateRangeEnd(start, end);
        }
    }
}
