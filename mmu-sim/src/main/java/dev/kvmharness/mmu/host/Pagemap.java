// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;

/**
 * {@code /proc/self/pagemap} of the simulated process ({@code pagemap_read()} in fs/proc/task_mmu.c): one u64
 * per virtual page, as a reader with {@code CAP_SYS_ADMIN} sees it, so the PFN is shown. Reached through
 * {@link HostMm#pagemap()}.
 *
 * <p>What an entry holds here: {@link #PM_PRESENT} and the PFN (of the 4 KiB page, a tail inside a huge leaf)
 * for a mapped page; {@link #PM_FILE} for a page of a shared mapping (shmem or hugetlbfs, not anonymous);
 * {@link #PM_MMAP_EXCLUSIVE} for a page mapped once; and {@link #PM_SOFT_DIRTY} on every page of a VMA,
 * mapped or not, because every mapping is new ({@code mmap} sets {@code VM_SOFTDIRTY}) and nothing clears it.
 * Addresses outside any VMA read 0. Swap, uffd-wp and guard entries do not exist in the model.
 */
public final class Pagemap {
    /** {@code PM_PFRAME_MASK}: bits 0-54, the page frame number. */
    public static final long PM_PFRAME_MASK = (1L << 55) - 1;
    /** {@code PM_SOFT_DIRTY}, bit 55. */
    public static final long PM_SOFT_DIRTY = 1L << 55;
    /** {@code PM_MMAP_EXCLUSIVE}, bit 56: the page is mapped exactly once. */
    public static final long PM_MMAP_EXCLUSIVE = 1L << 56;
    /** {@code PM_FILE}, bit 61: a file page or shared anonymous memory. */
    public static final long PM_FILE = 1L << 61;
    /** {@code PM_SWAP}, bit 62 (never set here: nothing is swapped out). */
    public static final long PM_SWAP = 1L << 62;
    /** {@code PM_PRESENT}, bit 63. */
    public static final long PM_PRESENT = 1L << 63;
    /** Bytes per entry ({@code PM_ENTRY_BYTES}). */
    public static final int ENTRY_BYTES = 8;

    private final SimScheduler sched;
    private final PhysMem phys;
    private final HostPageTable pt;
    private final VmaTree vmas;
    private final Rmap rmap;
    private long reads;

    Pagemap(SimScheduler sched, PhysMem phys, HostPageTable pt, VmaTree vmas, Rmap rmap) {
        this.sched = sched;
        this.phys = phys;
        this.pt = pt;
        this.vmas = vmas;
        this.rmap = rmap;
    }

    /** The entry of the page containing {@code hva}: {@code pread(fd, &e, 8, hva / 4096 * 8)}. */
    public long entry(long hva) {
        return read((hva >>> PhysMem.PAGE_SHIFT) * ENTRY_BYTES);
    }

    /**
     * {@code pread()} of the 8 bytes at {@code offset}, which must be a multiple of 8 (the kernel's EINVAL) below
     * the end of the user address space (beyond it a read returns nothing: EOF).
     */
    public long read(long offset) {
        if (offset < 0 || offset % ENTRY_BYTES != 0) {
            throw new SimKvmException("pread(/proc/self/pagemap)", KvmErrno.EINVAL, "offset " + offset
                    + " is not a multiple of " + ENTRY_BYTES);
        }
        long hva = (offset / ENTRY_BYTES) << PhysMem.PAGE_SHIFT;
        if (offset / ENTRY_BYTES >= HostMm.TASK_SIZE >>> PhysMem.PAGE_SHIFT) {
            throw new SimKvmException("pread(/proc/self/pagemap)", KvmErrno.EINVAL, String.format(
                    "offset 0x%x is past the end of the address space: a read there returns 0 bytes", offset));
        }
        sched.charge(Cost.SYSFS_RW);
        sched.yieldPoint();
        reads++;
        Vma vma = vmas.find(hva);
        if (vma == null) {
            return 0;
        }
        long e = PM_SOFT_DIRTY;
        PageWalk w = pt.walk(hva);
        if (!w.mapped()) {
            return e;
        }
        long pfn = w.pfn();
        e |= PM_PRESENT | (pfn & PM_PFRAME_MASK);
        if (!vma.isAnonymous()) {
            e |= PM_FILE;
        }
        if (rmap.mapcount(phys.compoundHead(pfn)) == 1) {
            e |= PM_MMAP_EXCLUSIVE;
        }
        return e;
    }

    /** Entries read so far. */
    public long reads() {
        return reads;
    }
}
