// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.spte.Spte;

/** struct kvm_page_fault: one EPT violation on its way through the fault path. */
public final class KvmPageFault {
    public long gfn;
    public boolean write;
    public boolean exec;
    public final boolean prefetch = false;
    /** The slot, or null for MMIO (no memslot). */
    public Memslot slot;
    /** mmu_invalidate_seq when the pfn was looked up. */
    public long mmuSeq;
    /** The memslots generation the slot lookup saw: what an MMIO SPTE made from it must carry. */
    public long memslotsGeneration;
    public long pfn;
    /** map_writable: the host mapping and the slot allow writes. */
    public boolean mapWritable;
    /** The host page table level mapping the hva (host_pfn_mapping_level). */
    public int hostLevel = Spte.PG_LEVEL_4K;
    public int maxLevel;
    public int reqLevel = Spte.PG_LEVEL_4K;
    public int goalLevel = Spte.PG_LEVEL_4K;
    public boolean hugePageDisallowed;
    public boolean nxHugePageWorkaroundEnabled;

    public KvmPageFault(long gfn, boolean write, boolean exec, int maxLevel) {
        reset(gfn, write, exec, maxLevel);
    }

    /** Re-initializes this object for the next fault: each vCPU handles one fault at a time and reuses it. */
    public KvmPageFault reset(long gfn, boolean write, boolean exec, int maxLevel) {
        this.gfn = gfn;
        this.write = write;
        this.exec = exec;
        this.maxLevel = maxLevel;
        slot = null;
        mmuSeq = 0;
        memslotsGeneration = 0;
        pfn = 0;
        mapWritable = false;
        hostLevel = Spte.PG_LEVEL_4K;
        reqLevel = Spte.PG_LEVEL_4K;
        goalLevel = Spte.PG_LEVEL_4K;
        hugePageDisallowed = false;
        nxHugePageWorkaroundEnabled = false;
        return this;
    }
}
