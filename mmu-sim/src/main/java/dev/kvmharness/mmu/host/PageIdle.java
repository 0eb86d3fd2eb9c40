// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;

/**
 * Idle page tracking, {@code /sys/kernel/mm/page_idle/bitmap} of the simulated host (mm/page_idle.c): one bit
 * per pfn, 64 to a u64, read and written 8 bytes at a time. Reached through {@link HostMm#pageIdle()}.
 *
 * <ul>
 *   <li><b>Writing</b> a set bit marks the folio at that pfn idle: first {@code page_idle_clear_pte_refs()},
 *       an rmap walk that, for every mapping, test-and-clears the Accessed bit of the host PTE (or PMD) and calls
 *       each MMU notifier's {@code clear_young} for its range ({@code ptep_clear_young_notify()}), which KVM turns
 *       into {@code kvm_age_gfn()}: the Accessed bits of the SPTEs are cleared, with no TLB flush; then
 *       {@code folio_set_idle()}.</li>
 *   <li><b>Reading</b> a word reports, for each of its 64 pfns, whether the folio is still idle: an idle folio's
 *       references are cleared again the same way, and if any mapping was young (the host PTE, or KVM's SPTE
 *       through {@code clear_young}) the folio is not idle any more. So a page the guest touched after it was
 *       marked reads 0, and one nobody touched reads 1, unless the guest reached it through a translation cached
 *       in its TLB, which sets no Accessed bit (why the C test tolerates up to 10% still idle).</li>
 *   <li>{@code folio_mark_accessed()} (a GUP with {@code FOLL_TOUCH}, KVM zapping a young SPTE) clears the
 *       idle flag too ({@link PhysMem#markAccessed}).</li>
 * </ul>
 *
 * <p>Only LRU folios are tracked ({@code page_idle_get_folio()}): a tail pfn of a huge folio, a hugetlb folio,
 * a free or never-used pfn is ignored on write and reads 0. Every other live folio is taken to be on an LRU
 * list from its allocation: the model has no per-CPU folio batches, so the C test's second source of still-idle
 * pages does not exist here. Folio locks ({@code folio_trylock()} for file folios) always succeed.
 *
 * <p>Costs: {@link Cost#SYSFS_RW} per read or write, {@link Cost#PAGE_IDLE_PFN} per pfn of the word,
 * {@link Cost#RMAP_ONE} per mapping walked, plus what the notifiers charge (KVM takes its mmu_lock for write there,
 * so concurrent markers contend on it as in the kernel).
 */
public final class PageIdle {
    /** {@code BITMAP_CHUNK_BITS}: pfns per u64 of the bitmap. */
    public static final int CHUNK_BITS = 64;
    /** {@code BITMAP_CHUNK_SIZE}: bytes per read or write. */
    public static final int CHUNK_BYTES = 8;

    private final SimScheduler sched;
    private final PhysMem phys;
    private final Rmap rmap;
    private final MmuNotifierChain notifiers;
    private long reads;
    private long writes;
    private long markedIdle;
    private long refWalks;
    private long foundReferenced;

    PageIdle(SimScheduler sched, PhysMem phys, Rmap rmap, MmuNotifierChain notifiers) {
        this.sched = sched;
        this.phys = phys;
        this.rmap = rmap;
        this.notifiers = notifiers;
    }

    /** {@code is_page_idle()} of the C test: bit {@code pfn % 64} of the word {@link #read} returns. */
    public boolean isIdle(long pfn) {
        return ((read((pfn / CHUNK_BITS) * CHUNK_BYTES) >>> (pfn % CHUNK_BITS)) & 1) != 0;
    }

    /** {@code mark_page_idle()} of the C test: {@link #write} of the word with only pfn's bit set. */
    public void markIdle(long pfn) {
        write((pfn / CHUNK_BITS) * CHUNK_BYTES, 1L << (pfn % CHUNK_BITS));
    }

    /**
     * {@code page_idle_bitmap_read()} of 8 bytes at {@code offset}: the idle bits of pfns
     * {@code [offset * 8, offset * 8 + 64)}.
     */
    public long read(long offset) {
        long pfn = firstPfn("pread", offset);
        if (pfn >= PhysMem.MAX_PFN) {
            throw new SimKvmException("pread(/sys/kernel/mm/page_idle/bitmap)", KvmErrno.EINVAL, String.format(
                    "pfn 0x%x is not below max_pfn 0x%x: a read there returns 0 bytes", pfn, PhysMem.MAX_PFN));
        }
        sched.charge(Cost.SYSFS_RW);
        sched.yieldPoint();
        reads++;
        long out = 0;
        for (int bit = 0; bit < CHUNK_BITS; bit++, pfn++) {
            sched.charge(Cost.PAGE_IDLE_PFN);
            if (!onLru(pfn) || !phys.isIdle(pfn)) {
                continue;
            }
            // The page might have been referenced via a PTE (or KVM's SPTE): clear the references and look again.
            clearPteRefs(pfn);
            if (phys.isLive(pfn) && phys.isIdle(pfn)) {
                out |= 1L << bit;
            }
        }
        return out;
    }

    /**
     * {@code page_idle_bitmap_write()} of 8 bytes at {@code offset}: every set bit marks its pfn's folio idle,
     * after clearing its references (host PTEs and, through {@code clear_young}, KVM's SPTEs).
     */
    public void write(long offset, long bits) {
        long pfn = firstPfn("pwrite", offset);
        if (pfn >= PhysMem.MAX_PFN) {
            throw new SimKvmException("pwrite(/sys/kernel/mm/page_idle/bitmap)", KvmErrno.ENXIO, String.format(
                    "pfn 0x%x is not below max_pfn 0x%x", pfn, PhysMem.MAX_PFN));
        }
        sched.charge(Cost.SYSFS_RW);
        sched.yieldPoint();
        writes++;
        for (int bit = 0; bit < CHUNK_BITS; bit++, pfn++) {
            sched.charge(Cost.PAGE_IDLE_PFN);
            if (((bits >>> bit) & 1) == 0 || !onLru(pfn)) {
                continue;
            }
            clearPteRefs(pfn);
            if (phys.isLive(pfn)) {
                phys.setIdle(pfn);
                markedIdle++;
            }
        }
    }

    /** Bitmap words read so far. */
    public long reads() {
        return reads;
    }

    /** Bitmap words written so far. */
    public long writes() {
        return writes;
    }

    /** {@code folio_set_idle()} calls so far: folios marked idle by a write. */
    public long markedIdle() {
        return markedIdle;
    }

    /** {@code page_idle_clear_pte_refs()} walks of mapped folios so far, from reads and writes. */
    public long refWalks() {
        return refWalks;
    }

    /** Of those, the walks that found the folio referenced (a young PTE or SPTE) and so cleared its idle flag. */
    public long foundReferenced() {
        return foundReferenced;
    }

    private static long firstPfn(String call, long offset) {
        if (offset < 0 || offset % CHUNK_BYTES != 0) {
            throw new SimKvmException(call + "(/sys/kernel/mm/page_idle/bitmap)", KvmErrno.EINVAL,
                    "offset " + offset + " is not a multiple of " + CHUNK_BYTES);
        }
        return offset / CHUNK_BYTES * CHUNK_BITS;
    }

    /** {@code page_idle_get_folio()}: a live folio head (not a tail) that is on an LRU list (not hugetlb). */
    private boolean onLru(long pfn) {
        return pfn >= PhysMem.FIRST_PFN && phys.isLiveHead(pfn) && !phys.isHugetlb(pfn);
    }

    /**
     * {@code page_idle_clear_pte_refs()}: for every mapping of the folio at head, the host PTE's (or PMD's)
     * Accessed bit is test-and-cleared and the notifiers' {@code clear_young} called for the range it maps; if any
     * was young, the folio is not idle ({@code folio_clear_idle()}).
     */
    private void clearPteRefs(long head) {
        if (rmap.mapcount(head) == 0) {
            return; // !folio_mapped()
        }
        refWalks++;
        // Local, not a field: the notifiers can sleep on mmu_lock and let another marker in meanwhile.
        boolean[] referenced = {false};
        rmap.walk(head, (vma, hva, level) -> {
            sched.charge(Cost.RMAP_ONE);
            long size = level == HostPageTable.PG_LEVEL_4K ? PhysMem.PAGE_SIZE
                    : level == HostPageTable.PG_LEVEL_2M ? HostPageTable.PMD_SIZE : HostPageTable.PUD_SIZE;
            if (notifiers.clearYoung(hva, hva + size)) {
                referenced[0] = true;
            }
        });
        if (referenced[0] && phys.isLive(head)) {
            phys.clearIdle(head);
            foundReferenced++;
        }
    }
}
