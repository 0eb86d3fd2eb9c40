// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mm's VMAs, keyed by start address: the maple tree of mm/vma.c and mm/mmap.c with the operations the
 * model needs, {@code vma_lookup()}, {@code find_vma_intersection()} over a range, {@code split_vma()},
 * {@code vma_merge()}, and the address allocation of {@code do_mmap()} ({@code get_unmapped_area()} with a
 * top-down, never-reused bump pointer below {@link HostMm#MMAP_BASE}).
 *
 * <p>Each mapping is aligned to its page size (2 MiB at least, so THP and shmem windows line up) and
 * separated from the previous one by a 2 MiB gap, so two mmap() calls never share a page table or merge.
 */
final class VmaTree {
    private static final long MMAP_MIN = 1L << 32;
    private static final long MMAP_GAP = HostPageTable.PMD_SIZE;

    private final TreeMap<Long, Vma> vmas = new TreeMap<>();
    /**
     * The VMA the last lookup found, like the kernel's per-mm vmacache: faults come in runs over one mapping.
     * Dropped whenever the tree changes; a cached VMA only shrinks (split) or grows (merge) while in the tree,
     * and {@link #find} re-checks its bounds.
     */
    private Vma vmaCache;
    private long mmapTop = HostMm.MMAP_BASE;
    private long nextOrigin = 1;

    /** {@code do_mmap()} of private anonymous memory: a new VMA of len bytes; returns its start. */
    long mmapAnon(long len, Backing backing, boolean writable) {
        if (len <= 0 || len % backing.pageSize() != 0) {
            throw new SimKvmException("mmap", KvmErrno.EINVAL,
                    "length " + len + " is not a positive multiple of the " + backing + " page size");
        }
        long start = allocVa(len, Math.max(backing.alignment(), HostPageTable.PMD_SIZE), 0);
        insert(new Vma(start, start + len, backing, null, 0, writable, nextOrigin++));
        return start;
    }

    /** {@code do_mmap()} of a shared memfd window at offset; takes a file reference; returns its start. */
    long mmapFile(long len, MemFd file, long offset, boolean writable) {
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
        insert(new Vma(start, start + len, null, file, offset, writable, nextOrigin++));
        return start;
    }

    /** {@code vma_lookup()}: the VMA containing hva, or null. */
    Vma find(long hva) {
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
    List<Vma> intersecting(long start, long end) {
        List<Vma> out = new ArrayList<>();
        Map.Entry<Long, Vma> first = vmas.floorEntry(start);
        Long from = first != null && first.getValue().end > start ? first.getKey() : Long.valueOf(start);
        for (Vma v : vmas.subMap(from, true, end, false).values()) {
            out.add(v);
        }
        return out;
    }

    /** Every VMA, in address order (a copy: the caller may change the tree while iterating). */
    List<Vma> all() {
        return List.copyOf(vmas.values());
    }

    /** {@code split_vma} at addr if a VMA strictly contains it. */
    void splitAt(long addr) {
        Vma v = find(addr);
        if (v != null && v.start < addr) {
            Vma tail = v.splitOff(addr);
            if (tail.file != null) {
                tail.file.get();
            }
            insert(tail);
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

    /** {@code vma_merge} over the whole tree, after a change that may have made any neighbours equal. */
    void mergeAll() {
        if (!vmas.isEmpty()) {
            mergeAround(vmas.firstKey(), HostMm.TASK_SIZE);
        }
    }

    /** Detaches the VMAs from the tree ({@code vms_gather_munmap_vmas}); their file references stay. */
    void detach(List<Vma> hit) {
        vmaCache = null;
        for (Vma v : hit) {
            vmas.remove(v.start);
        }
    }

    /** Sets the protection of the VMAs inside [start, end), which must have been split at its ends. */
    void setWritable(long start, long end, boolean writable) {
        vmaCache = null;
        for (Vma v : intersecting(start, end)) {
            v.writable = writable;
        }
    }

    /**
     * {@code free_pgtables}' floor: the end of the VMA below start, or 0. Page tables of an unmapped range may
     * only be freed where no remaining VMA still uses them.
     */
    long floorBelow(long start) {
        Map.Entry<Long, Vma> below = vmas.lowerEntry(start);
        return below == null ? 0 : below.getValue().end;
    }

    /** {@code free_pgtables}' ceiling: the start of the VMA at or above end, or past the user address space. */
    long ceilingAbove(long end) {
        Map.Entry<Long, Vma> above = vmas.ceilingEntry(end);
        return above == null ? HostMm.TASK_SIZE + PhysMem.PAGE_SIZE : above.getKey();
    }

    int count() {
        return vmas.size();
    }

    /** Forgets every VMA (exit_mmap, after they were unmapped). */
    void clear() {
        vmas.clear();
        vmaCache = null;
    }

    private void insert(Vma v) {
        vmaCache = null;
        vmas.put(v.start, v);
    }

    private long allocVa(long len, long align, long colour) {
        long start = ((mmapTop - len - colour) & -align) + colour;
        if (len > mmapTop || start < MMAP_MIN) {
            throw new SimKvmException("mmap", KvmErrno.ENOMEM, "the simulated address space is exhausted");
        }
        mmapTop = start - MMAP_GAP;
        return start;
    }
}
