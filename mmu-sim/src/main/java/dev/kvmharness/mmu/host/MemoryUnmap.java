// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import java.util.List;

/**
 * Taking pages away from an address range, and the calls that do it: {@code do_vmi_munmap()} (mm/vma.c),
 * {@code madvise_dontneed_single_vma()} (mm/madvise.c) and {@code mprotect_fixup()} (mm/mprotect.c), over
 * mm/memory.c's {@code unmap_page_range()} / {@code zap_pte_range()}, mm/huge_memory.c's
 * {@code zap_huge_pmd()} and {@code __split_huge_pmd()}, and {@code free_pgtables()}. Each announces its
 * range to the {@link MmuNotifierChain} around the change, as the kernel does.
 */
final class MemoryUnmap {
    private static final long PAGE = PhysMem.PAGE_SIZE;

    private final PhysMem phys;
    private final HostPageTable pt;
    private final VmaTree vmas;
    private final MmuNotifierChain notifiers;

    MemoryUnmap(PhysMem phys, HostPageTable pt, VmaTree vmas, MmuNotifierChain notifiers) {
        this.phys = phys;
        this.pt = pt;
        this.vmas = vmas;
        this.notifiers = notifiers;
    }

    /** See {@link HostMm#munmap}. */
    void munmap(long hva, long len) {
        if ((hva & (PAGE - 1)) != 0 || hva > HostMm.TASK_SIZE || len > HostMm.TASK_SIZE - hva || len <= 0) {
            throw new SimKvmException("munmap", KvmErrno.EINVAL, String.format("bad range 0x%x + 0x%x", hva, len));
        }
        long end = hva + pageAlign(len);
        List<Vma> hit = vmas.intersecting(hva, end);
        if (hit.isEmpty()) {
            return;
        }
        for (Vma v : hit) {
            checkHugetlbSplit("munmap", v, hva);
            checkHugetlbSplit("munmap", v, end);
        }
        vmas.splitAt(hva);
        vmas.splitAt(end);
        hit = vmas.intersecting(hva, end);
        vmas.detach(hit);
        notifiers.invalidateRangeStart(hva, end);
        for (Vma v : hit) {
            zap(v, v.start, v.end);
        }
        freePgtables(hva, end);
        notifiers.invalidateRangeEnd(hva, end);
        for (Vma v : hit) {
            if (v.file != null) {
                v.file.put();
            }
        }
    }

    /** See {@link HostMm#mprotect}. */
    void mprotect(long hva, long len, boolean writable) {
        HostMm.checkRange("mprotect", hva, pageAlign(len));
        long end = hva + pageAlign(len);
        List<Vma> hit = vmas.intersecting(hva, end);
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
        vmas.splitAt(hva);
        vmas.splitAt(end);
        vmas.setWritable(hva, end, writable);
        notifiers.invalidateRangeStart(hva, end);
        notifiers.invalidateRangeEnd(hva, end);
        vmas.mergeAround(hva, end);
    }

    /** See {@link HostMm#madviseDontneed}. */
    void madviseDontneed(long hva, long len) {
        if ((hva & (PAGE - 1)) != 0 || len < 0 || len > HostMm.TASK_SIZE - hva) {
            throw new SimKvmException("madvise", KvmErrno.EINVAL, String.format("bad range 0x%x + 0x%x", hva, len));
        }
        long end = hva + pageAlign(len);
        boolean hole = false;
        long covered = hva;
        for (Vma v : vmas.intersecting(hva, end)) {
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
                notifiers.invalidateRangeStart(s, e);
                zap(v, s, e);
                notifiers.invalidateRangeEnd(s, e);
            }
            covered = vmaEnd;
        }
        if (hole || covered < end) {
            throw new SimKvmException("madvise", KvmErrno.ENOMEM, "part of the range is not mapped");
        }
    }

    /**
     * {@code unmap_page_range} over [s, e) of one VMA: clears leaves, frees anonymous folios. A THP only
     * partly inside the range is split first ({@code __split_huge_pmd}, with its own notifier pair).
     */
    void zap(Vma vma, long s, long e) {
        boolean anon = vma.isAnonymous();
        long addr = s;
        while (addr < e) {
            PageWalk w = pt.walk(addr);
            long holeEnd = w.holeEnd();
            if (holeEnd != addr) {
                addr = holeEnd;
                continue;
            }
            long pudHead = w.pudLeafHead();
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
            long pmdHead = w.pmdLeafHead();
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
            PteTable t = w.pte;
            if (t != null) {
                for (long a = addr; a < pmdEnd; a += PAGE) {
                    int i = HostPageTable.pteIndex(a);
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
        notifiers.invalidateRangeStart(leaf, leaf + HostPageTable.PMD_SIZE);
        if (pt.pmdLeaf(leaf) == head) {
            boolean young = pt.pmdLeafYoung(leaf);
            phys.splitPmdFolio(head);
            pt.replacePmdLeaf(leaf, PteTable.splitFrom(head, young));
        }
        notifiers.invalidateRangeEnd(leaf, leaf + HostPageTable.PMD_SIZE);
    }

    /**
     * {@code free_pgtables}: drops the PTE tables of the unmapped range whose whole 2M lies between the
     * remaining neighbour VMAs (floor and ceiling), so a later THP can be mapped there again.
     */
    private void freePgtables(long start, long end) {
        long floor = vmas.floorBelow(start);
        long ceiling = vmas.ceilingAbove(end);
        for (long r = start & -HostPageTable.PMD_SIZE; r < end; r += HostPageTable.PMD_SIZE) {
            long holeEnd = pt.walk(r).holeEnd();
            if (holeEnd != r) {
                r = (holeEnd & -HostPageTable.PMD_SIZE) - HostPageTable.PMD_SIZE;
                continue;
            }
            if (r >= floor && r + HostPageTable.PMD_SIZE <= ceiling) {
                pt.freePteTable(r);
            }
        }
    }

    /** A hugetlb VMA can only be split at a huge page boundary ({@code hugetlb_vm_op_split}). */
    private static void checkHugetlbSplit(String call, Vma v, long addr) {
        if (v.isHugetlb() && v.start < addr && addr < v.end && addr % v.pageSize() != 0) {
            throw new SimKvmException(call, KvmErrno.EINVAL,
                    String.format("0x%x would split a %d-byte hugetlb page", addr, v.pageSize()));
        }
    }

    private static long pageAlign(long len) {
        return (len + PAGE - 1) & -PAGE;
    }
}
