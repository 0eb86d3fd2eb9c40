// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The host's physical memory: the {@code struct page} array ({@code mem_map} under SPARSEMEM, one
 * {@code mem_section} per 128 MiB) and the buddy allocator's {@code alloc_pages()} / {@code __free_pages()}.
 *
 * <p>Page frames are handed out by a bump allocator starting at {@link #FIRST_PFN}; a pfn is never handed out
 * twice, so a stale pfn kept by a buggy caller can never alias a newer page, and any access to a freed page
 * throws instead of silently reading someone else's data. Compound pages (THP / hugetlb folios of order 9 or
 * 18) are naturally aligned, like the buddy allocator's.
 *
 * <p>Memory use is the point of this class. Per page frame the only permanent state is a 4-bit
 * {@code page->flags} nibble; tails of compound pages have none (their state is the head's, found by
 * alignment like {@code compound_head()}). Page contents exist only once written (see {@link PageBytes}).
 * A 128 GiB guest whose memory was faulted in but not written costs 16 MiB here. Idle page tracking's
 * {@code PG_idle} lives beside the nibbles, a bit per page in a bitmap each section allocates only once a folio
 * of it is marked idle (as {@code page_ext} holds it where page flags run out), and hugetlb folios are named
 * in a set (one entry per 2 MiB or 1 GiB).
 *
 * <p>Not thread-safe: callers run under the simulator's baton (one simulated thread at a time).
 */
public final class PhysMem {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** {@code HPAGE_PMD_ORDER}: a 2 MiB folio. */
    public static final int PMD_ORDER = 9;
    /** {@code HPAGE_PUD_ORDER}: a 1 GiB folio. */
    public static final int PUD_ORDER = 18;
    /** The first pfn handed out: the low 4 GiB are left to firmware and devices, so pfn 0 is never valid. */
    public static final long FIRST_PFN = 0x10_0000L;
    /** Exclusive bound on pfns (52-bit physical addresses minus what the SPTE format leaves): 4 PiB. */
    public static final long MAX_PFN = 1L << 40;

    /** {@code PFN_SECTION_SHIFT} on x86-64: 128 MiB sections. */
    private static final int SECTION_SHIFT = 15;
    private static final int SECTION_PAGES = 1 << SECTION_SHIFT;

    // page->flags nibble values. Heads and order-0 pages carry PG_referenced (+1) and PG_dirty (+2).
    private static final int UNUSED = 0;
    private static final int FREED = 1;
    private static final int LIVE = 2;
    private static final int HEAD_PMD = 6;
    private static final int HEAD_PUD = 10;
    private static final int FREED_HEAD_PMD = 14;
    private static final int FREED_HEAD_PUD = 15;
    private static final int ACCESSED = 1;
    private static final int DIRTY = 2;

    /** One mem_section: page flags and page contents, each allocated on first need. */
    private static final class Section {
        byte[] flags;     // two nibbles per byte
        Object[] data;    // PageBytes slots
        int dataPages;
        long[] idle;      // PG_idle of folio heads, one bit per page, allocated when first set
    }

    private Section[] sections = new Section[16];
    private long next = FIRST_PFN;
    private long livePages;
    /** free() calls so far: while this stands still, a live page stays live. */
    private long frees;
    private long dataPages;
    /** Heads of live hugetlb folios ({@code folio_test_hugetlb()}): never on an LRU list. */
    private final Set<Long> hugetlbHeads = new HashSet<>();
    /**
     * Watched pages and who to tell when one is written or freed: vCPUs parked instead of spinning on them
     * ({@link #watch}). Consulted only while {@link #watchers} is non-empty, so unwatched writes cost one test.
     */
    private final Map<Long, List<Runnable>> watched = new HashMap<>();
    /** Every callback of a {@link #watch} in force, once per watch. */
    private final List<Runnable> watchers = new ArrayList<>();
    /** While non-null, the pfns {@link #read} and {@link #readBytes} are asked for ({@link #startReadLog}). */
    private long[] readLog;
    private int readLogSize;

    /** {@code alloc_pages(order)}: a zeroed, naturally aligned page or folio of 2^order pages; returns its head pfn. */
    public long alloc(int order) {
        int code = headCode(order);
        long pfn = carve(order);
        setNibble(pfn, code);
        livePages += 1L << order;
        return pfn;
    }

    /**
     * {@link #alloc} of a hugetlb folio ({@code alloc_hugetlb_folio()}): the same page frames, but the folio is
     * never put on an LRU list, so idle page tracking ignores it ({@link #isHugetlb}).
     */
    long allocHugetlb(int order) {
        long head = alloc(order);
        hugetlbHeads.add(head);
        return head;
    }

    /**
     * Sets aside a naturally aligned block of 2^order never-used pfns, none of them live yet; its pages are
     * later made live one by one with {@link #allocReserved}. A page table or page-cache block that hands
     * page i the pfn {@code base + i} can then remember all 512 pfns as one number.
     */
    long reserve(int order) {
        return carve(order);
    }

    /** Whether pfn was never handed out (still free in its reserved block, or an alignment hole). */
    boolean neverUsed(long pfn) {
        return pfn >= FIRST_PFN && pfn < next && state(pfn) == UNUSED;
    }

    /**
     * {@link #allocReserved} if pfn is {@link #neverUsed}, with one look at its flags instead of two: the
     * anonymous fault path's common case. Returns false, changing nothing, if pfn was used before.
     */
    boolean allocReservedIfNeverUsed(long pfn) {
        if (pfn < FIRST_PFN || pfn >= next || state(pfn) != UNUSED) {
            return false;
        }
        setNibble(pfn, LIVE);
        livePages++;
        return true;
    }

    /** Makes a never-used order-0 page of a {@link #reserve reserved} block live. */
    void allocReserved(long pfn) {
        if (pfn < FIRST_PFN || pfn >= next || state(pfn) != UNUSED) {
            throw new IllegalStateException("pfn 0x" + Long.toHexString(pfn) + " is not a never-used reserved page");
        }
        setNibble(pfn, LIVE);
        livePages++;
    }

    /** {@code __free_pages(page, order)}: frees a live order-0 page or a whole folio by its head. */
    public void free(long pfn, int order) {
        int code = headCode(order);
        int nib = nibble(pfn);
        if (nib < code || nib > code + (ACCESSED | DIRTY)) {
            throw new IllegalStateException("bad_page: pfn 0x" + Long.toHexString(pfn) + " is not a live page of order "
                    + order);
        }
        long pages = 1L << order;
        if (!watchers.isEmpty()) {
            changed(pfn, pages);
        }
        for (long p = pfn; p < pfn + pages; p = sectionStart(p) + SECTION_PAGES) {
            Section s = section(p);
            if (s == null || s.data == null) {
                continue;
            }
            int from = (int) (p - sectionStart(p));
            int to = (int) Math.min(SECTION_PAGES, pfn + pages - sectionStart(p));
            for (int i = from; i < to; i++) {
                if (s.data[i] != null) {
                    s.data[i] = null;
                    s.dataPages--;
                    dataPages--;
                }
            }
            if (s.dataPages == 0) {
                s.data = null;
            }
        }
        setNibble(pfn, order == 0 ? FREED : order == PMD_ORDER ? FREED_HEAD_PMD : FREED_HEAD_PUD);
        setIdleBit(pfn, false);
        hugetlbHeads.remove(pfn);
        livePages -= pages;
        frees++;
    }

    /**
     * {@code split_folio()} of a 2 MiB folio into 512 order-0 pages with the same pfns and contents, each
     * inheriting the folio's referenced/dirty state, so parts of a THP can be freed independently.
     */
    void splitPmdFolio(long head) {
        int nib = nibble(head);
        if (nib < HEAD_PMD || nib > HEAD_PMD + (ACCESSED | DIRTY)) {
            throw new IllegalStateException("pfn 0x" + Long.toHexString(head) + " is not the head of a live 2M folio");
        }
        int order0 = LIVE + (nib - HEAD_PMD);
        boolean idle = idleBit(head);
        for (long p = head; p < head + (1L << PMD_ORDER); p++) {
            setNibble(p, order0);
            if (idle) {
                setIdleBit(p, true);
            }
        }
    }

    public boolean isLive(long pfn) {
        return isLiveCode(state(pfn));
    }

    /** How many times a page or folio was freed so far. */
    public long frees() {
        return frees;
    }

    /** Live 4 KiB pages, folios counted by their size. */
    public long livePages() {
        return livePages;
    }

    /** {@code compound_head()}: the head pfn of the live folio containing pfn (pfn itself for order 0). */
    public long compoundHead(long pfn) {
        long head = headOf(pfn);
        requireLive(pfn, head);
        return head;
    }

    /** {@code folio_order()} of the live folio containing pfn. */
    public int compoundOrder(long pfn) {
        long head = headOf(pfn);
        int nib = requireLive(pfn, head);
        return nib >= HEAD_PUD ? PUD_ORDER : nib >= HEAD_PMD ? PMD_ORDER : 0;
    }

    /** {@code folio_mark_accessed()}: sets the folio's referenced flag; an idle folio is idle no more. */
    public void markAccessed(long pfn) {
        long head = headOf(pfn);
        setNibble(head, withFlags(requireLive(pfn, head), ACCESSED));
        setIdleBit(head, false);
    }

    /** {@code set_page_dirty()}: the folio must be written back (or, if anonymous, kept) before reuse. */
    public void markDirty(long pfn) {
        long head = headOf(pfn);
        setNibble(head, withFlags(requireLive(pfn, head), DIRTY));
    }

    /**
     * {@code get_user_pages()} with {@code FOLL_TOUCH}: {@link #markAccessed}, and for a write also
     * {@link #markDirty}, in one update of the folio's flags.
     */
    void markTouched(long pfn, boolean write) {
        long head = headOf(pfn);
        setNibble(head, withFlags(requireLive(pfn, head), write ? ACCESSED | DIRTY : ACCESSED));
        setIdleBit(head, false);
    }

    /** {@code folio_test_clear_referenced()}: what page reclaim does when it scans a folio. */
    public boolean testAndClearAccessed(long pfn) {
        long head = headOf(pfn);
        int nib = requireLive(pfn, head);
        setNibble(head, liveBase(nib) + (folioFlags(nib) & ~ACCESSED));
        return (folioFlags(nib) & ACCESSED) != 0;
    }

    public boolean isAccessed(long pfn) {
        long head = headOf(pfn);
        return (folioFlags(requireLive(pfn, head)) & ACCESSED) != 0;
    }

    public boolean isDirty(long pfn) {
        long head = headOf(pfn);
        return (folioFlags(requireLive(pfn, head)) & DIRTY) != 0;
    }

    /** {@code folio_test_hugetlb()} of the live folio containing pfn. */
    public boolean isHugetlb(long pfn) {
        long head = headOf(pfn);
        requireLive(pfn, head);
        return hugetlbHeads.contains(head);
    }

    /** Whether pfn is a live page that is the head of its folio (or an order-0 page): not {@code PageTail()}. */
    public boolean isLiveHead(long pfn) {
        int nib = nibble(pfn);
        return isLiveCode(nib);
    }

    /** {@code folio_test_idle()} of the live folio containing pfn. */
    public boolean isIdle(long pfn) {
        long head = headOf(pfn);
        requireLive(pfn, head);
        return idleBit(head);
    }

    /** {@code folio_set_idle()} of the live folio containing pfn. */
    public void setIdle(long pfn) {
        long head = headOf(pfn);
        requireLive(pfn, head);
        setIdleBit(head, true);
    }

    /** {@code folio_clear_idle()} of the live folio containing pfn. */
    public void clearIdle(long pfn) {
        long head = headOf(pfn);
        requireLive(pfn, head);
        setIdleBit(head, false);
    }

    /** Reads a little-endian value of width 1, 2, 4 or 8 bytes at offset within the page; never-written bytes are 0. */
    public long read(long pfn, int offset, int width) {
        checkAccess(offset, width);
        requireLive(pfn);
        if (readLog != null) {
            logRead(pfn);
        }
        Section s = section(pfn);
        return s == null || s.data == null ? 0 : PageBytes.read(s.data[slot(pfn)], offset, width);
    }

    public void write(long pfn, int offset, int width, long value) {
        checkAccess(offset, width);
        requireLive(pfn);
        Section s = sectionForUpdate(pfn);
        int i = slot(pfn);
        Object[] data = data(s);
        store(s, i, data[i], PageBytes.write(data[i], offset, width, value));
        if (!watchers.isEmpty()) {
            changed(pfn, 1);
        }
    }

    public void readBytes(long pfn, int offset, byte[] dst, int dstOff, int len) {
        checkRange(offset, len);
        requireLive(pfn);
        if (readLog != null) {
            logRead(pfn);
        }
        Section s = section(pfn);
        PageBytes.readBytes(s == null || s.data == null ? null : s.data[slot(pfn)], offset, dst, dstOff, len);
    }

    public void writeBytes(long pfn, int offset, byte[] src, int srcOff, int len) {
        checkRange(offset, len);
        requireLive(pfn);
        if (len == 0) {
            return;
        }
        Section s = sectionForUpdate(pfn);
        int i = slot(pfn);
        Object[] data = data(s);
        store(s, i, data[i], PageBytes.writeBytes(data[i], offset, src, srcOff, len));
        if (!watchers.isEmpty()) {
            changed(pfn, 1);
        }
    }

    public void fill(long pfn, int offset, int len, byte value) {
        checkRange(offset, len);
        requireLive(pfn);
        Section s = section(pfn);
        if ((s == null || s.data == null) && value == 0) {
            return; // zeroes over zeroes: nothing to allocate
        }
        s = sectionForUpdate(pfn);
        int i = slot(pfn);
        Object[] data = data(s);
        store(s, i, data[i], PageBytes.fill(data[i], offset, len, value));
        if (!watchers.isEmpty()) {
            changed(pfn, 1);
        }
    }

    /**
     * Calls {@code onChange} when one of {@code pfns} is next written (by anyone: a host store, another vCPU,
     * a fill) or freed, until {@link #unwatch}. This is how a vCPU whose guest only reads these pages in a loop
     * waits for what could end the loop instead of re-running it (MONITOR/MWAIT on the lines it reads).
     * {@code onChange} must not block; it may run more than once.
     */
    public void watch(long[] pfns, Runnable onChange) {
        for (long pfn : pfns) {
            watched.computeIfAbsent(pfn, k -> new ArrayList<>(1)).add(onChange);
        }
        watchers.add(onChange);
    }

    /** Ends a {@link #watch} of the same pfns and callback. */
    public void unwatch(long[] pfns, Runnable onChange) {
        for (long pfn : pfns) {
            List<Runnable> l = watched.get(pfn);
            if (l != null && l.remove(onChange) && l.isEmpty()) {
                watched.remove(pfn);
            }
        }
        watchers.remove(onChange);
    }

    /**
     * Starts recording which pages are read, until {@link #stopReadLog}: what a host thread polling guest memory
     * looked at, so it can {@link #watch} exactly those pages instead of polling again.
     */
    public void startReadLog() {
        readLog = new long[4];
        readLogSize = 0;
    }

    /** The distinct pfns read since {@link #startReadLog}; recording stops. */
    public long[] stopReadLog() {
        long[] out = Arrays.copyOf(readLog, readLogSize);
        readLog = null;
        return out;
    }

    private void logRead(long pfn) {
        for (int i = 0; i < readLogSize; i++) {
            if (readLog[i] == pfn) {
                return;
            }
        }
        if (readLogSize == readLog.length) {
            readLog = Arrays.copyOf(readLog, readLogSize * 2);
        }
        readLog[readLogSize++] = pfn;
    }

    /**
     * Tells every watcher that what an address reads may have changed without a write to the page it read: a
     * memslot or host mapping change can point the same address at another page.
     */
    public void wakeAllWatchers() {
        List.copyOf(watchers).forEach(Runnable::run);
    }

    private void changed(long pfn, long pages) {
        if (pages == 1) {
            List<Runnable> l = watched.get(pfn);
            if (l != null) {
                List.copyOf(l).forEach(Runnable::run);
            }
            return;
        }
        for (Map.Entry<Long, List<Runnable>> e : List.copyOf(watched.entrySet())) {
            if (e.getKey() >= pfn && e.getKey() < pfn + pages) {
                List.copyOf(e.getValue()).forEach(Runnable::run);
            }
        }
    }

    /** Pages whose contents are held in memory (were written with something other than whole-page zeroes). */
    public long dataPages() {
        return dataPages;
    }

    /** Rough heap bytes of the per-page metadata: section table, flag nibbles, content slot arrays. */
    public long metadataBytes() {
        long bytes = 16L + 4L * sections.length;
        for (Section s : sections) {
            if (s != null) {
                bytes += 24;
                bytes += s.flags == null ? 0 : 16 + s.flags.length;
                bytes += s.data == null ? 0 : 16 + 4L * s.data.length;
                bytes += s.idle == null ? 0 : 16 + 8L * s.idle.length;
            }
        }
        return bytes + 48L * hugetlbHeads.size();
    }

    /** Rough heap bytes of page contents. */
    public long dataBytes() {
        long bytes = 0;
        for (Section s : sections) {
            if (s != null && s.data != null) {
                for (Object page : s.data) {
                    bytes += PageBytes.footprint(page);
                }
            }
        }
        return bytes;
    }

    // ---- internals ----

    private long carve(int order) {
        headCode(order);
        long size = 1L << order;
        long pfn = (next + size - 1) & -size;
        if (pfn + size > MAX_PFN) {
            throw new SimKvmException("alloc_pages", KvmErrno.ENOMEM, "the simulated host ran out of page frames");
        }
        next = pfn + size;
        return pfn;
    }

    private static int headCode(int order) {
        switch (order) {
            case 0:
                return LIVE;
            case PMD_ORDER:
                return HEAD_PMD;
            case PUD_ORDER:
                return HEAD_PUD;
            default:
                throw new IllegalArgumentException("order " + order + ": only 0, 9 (2M) and 18 (1G) folios exist here");
        }
    }

    /** The nibble of a live page without its PG_referenced/PG_dirty bits: LIVE, HEAD_PMD or HEAD_PUD. */
    private static int liveBase(int nib) {
        return nib >= HEAD_PUD ? HEAD_PUD : nib >= HEAD_PMD ? HEAD_PMD : LIVE;
    }

    private static int folioFlags(int nib) {
        return nib - liveBase(nib);
    }

    private static int withFlags(int nib, int flags) {
        return liveBase(nib) + (folioFlags(nib) | flags);
    }

    private static boolean isLiveCode(int nib) {
        return nib >= LIVE && nib < FREED_HEAD_PMD;
    }

    /** The flags nibble that describes pfn: its own, or its folio head's for a tail page. */
    private int state(long pfn) {
        return nibble(headOf(pfn));
    }

    /** The pfn whose nibble describes pfn: a (live or freed) folio head covering it, else pfn itself. */
    private long headOf(long pfn) {
        if (nibble(pfn) != UNUSED) {
            return pfn;
        }
        long pmdHead = pfn & -(1L << PMD_ORDER);
        if (pmdHead != pfn) {
            int nib = nibble(pmdHead);
            if ((nib >= HEAD_PMD && nib < HEAD_PUD) || nib == FREED_HEAD_PMD) {
                return pmdHead;
            }
        }
        long pudHead = pfn & -(1L << PUD_ORDER);
        if (pudHead != pfn) {
            int nib = nibble(pudHead);
            if ((nib >= HEAD_PUD && nib < FREED_HEAD_PMD) || nib == FREED_HEAD_PUD) {
                return pudHead;
            }
        }
        return pfn;
    }

    private void requireLive(long pfn) {
        requireLive(pfn, headOf(pfn));
    }

    private int requireLive(long pfn, long head) {
        int nib = nibble(head);
        if (!isLiveCode(nib)) {
            throw new IllegalStateException("pfn 0x" + Long.toHexString(pfn)
                    + (nib == UNUSED ? " was never allocated" : " was freed (use after free)"));
        }
        return nib;
    }

    private static void checkAccess(int offset, int width) {
        if (width != 1 && width != 2 && width != 4 && width != 8) {
            throw new IllegalArgumentException("width " + width + " is not 1, 2, 4 or 8");
        }
        checkRange(offset, width);
    }

    private static void checkRange(int offset, int len) {
        if (offset < 0 || len < 0 || offset + len > PAGE_SIZE) {
            throw new IllegalArgumentException("[" + offset + ", " + offset + "+" + len + ") is not inside one 4K page");
        }
    }

    private static long sectionStart(long pfn) {
        return pfn & -(long) SECTION_PAGES;
    }

    private static int slot(long pfn) {
        return (int) (pfn & (SECTION_PAGES - 1));
    }

    private Section section(long pfn) {
        long index = (pfn - FIRST_PFN) >>> SECTION_SHIFT;
        return pfn < FIRST_PFN || index >= sections.length ? null : sections[(int) index];
    }

    private Section sectionForUpdate(long pfn) {
        int index = (int) ((pfn - FIRST_PFN) >>> SECTION_SHIFT);
        if (index >= sections.length) {
            sections = Arrays.copyOf(sections, Math.max(index + 1, sections.length * 2));
        }
        Section s = sections[index];
        if (s == null) {
            s = new Section();
            sections[index] = s;
        }
        return s;
    }

    private static Object[] data(Section s) {
        if (s.data == null) {
            s.data = new Object[SECTION_PAGES];
        }
        return s.data;
    }

    private void store(Section s, int i, Object before, Object after) {
        s.data[i] = after;
        int delta = (after != null ? 1 : 0) - (before != null ? 1 : 0);
        s.dataPages += delta;
        dataPages += delta;
        if (s.dataPages == 0) {
            s.data = null;
        }
    }

    private boolean idleBit(long pfn) {
        Section s = section(pfn);
        if (s == null || s.idle == null) {
            return false;
        }
        int i = slot(pfn);
        return (s.idle[i >>> 6] & (1L << i)) != 0;
    }

    /** Sets or clears PG_idle of pfn; clearing where no bitmap exists allocates nothing (the common case). */
    private void setIdleBit(long pfn, boolean idle) {
        Section s = section(pfn);
        if (!idle && (s == null || s.idle == null)) {
            return;
        }
        if (s == null) {
            s = sectionForUpdate(pfn);
        }
        if (s.idle == null) {
            s.idle = new long[SECTION_PAGES / 64];
        }
        int i = slot(pfn);
        if (idle) {
            s.idle[i >>> 6] |= 1L << i;
        } else {
            s.idle[i >>> 6] &= ~(1L << i);
        }
    }

    private int nibble(long pfn) {
        Section s = section(pfn);
        if (s == null || s.flags == null) {
            return UNUSED;
        }
        int i = slot(pfn);
        return (s.flags[i >>> 1] >>> ((i & 1) << 2)) & 0xf;
    }

    private void setNibble(long pfn, int value) {
        Section s = sectionForUpdate(pfn);
        if (s.flags == null) {
            s.flags = new byte[SECTION_PAGES / 2];
        }
        int i = slot(pfn);
        int shift = (i & 1) << 2;
        s.flags[i >>> 1] = (byte) ((s.flags[i >>> 1] & ~(0xf << shift)) | (value << shift));
    }
}
