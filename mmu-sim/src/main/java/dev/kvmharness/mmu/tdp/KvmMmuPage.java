// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.spte.Spte;

/**
 * struct kvm_mmu_page for the TDP MMU: one page table ({@code long[512]}, 8 bytes per SPTE like the hardware
 * page) and the little metadata KVM keeps beside it. Roots additionally carry a refcount and the
 * invalid/scheduled-to-zap flags of their role. Kept small on purpose: at 128 GiB mapped with 4K pages there
 * are 32768 of these per GiB... per 512 pages one, so every field here costs bytes per mapped page.
 */
public final class KvmMmuPage {
    /** The SPTEs. */
    final long[] spt = new long[Spte.PT_ENTRIES];
    /** The "physical address" of this table: its index in {@link SpTable}, what a non-leaf SPTE points at. */
    final int id;
    /** role.level. */
    final byte level;
    /** role.smm: the address space. */
    final byte asId;
    /** The first gfn this table maps. */
    final long gfn;
    /** The table holding the SPTE that points here (sp->ptep); null for a root. */
    KvmMmuPage parent;
    /** Index of that SPTE in the parent. */
    short parentIndex;
    /** sp->nx_huge_page_disallowed: created by an exec fault that was denied a huge page. */
    boolean nxHugePageDisallowed;
    /** role.invalid (roots). */
    boolean invalid;
    /** tdp_mmu_scheduled_root_to_zap. */
    boolean scheduledRootToZap;
    /** Freed after an RCU grace period; any later use is a use-after-free the oracle reports. */
    boolean freed;
    /** tdp_mmu_root_count. */
    int rootRefcount;
    /** Links in kvm->arch.possible_nx_huge_pages (oldest first). */
    KvmMmuPage nxPrev;
    KvmMmuPage nxNext;
    boolean nxTracked;

    KvmMmuPage(int id, int level, int asId, long gfn) {
        this.id = id;
        this.level = (byte) level;
        this.asId = (byte) asId;
        this.gfn = gfn;
    }

    public int level() {
        return level;
    }

    public int asId() {
        return asId;
    }

    public long gfn() {
        return gfn;
    }

    public int id() {
        return id;
    }

    public boolean isRoot() {
        return parent == null;
    }

    public boolean isInvalid() {
        return invalid;
    }

    public boolean isFreed() {
        return freed;
    }

    public int rootRefcount() {
        return rootRefcount;
    }

    public boolean nxHugePageDisallowed() {
        return nxHugePageDisallowed;
    }

    /**
     * What the CPU does to a leaf SPTE on its own during a walk: set the Accessed (or Dirty) bit, with no KVM
     * code involved and no mmu_lock.
     */
    public void hardwareSetBits(int index, long bits) {
        spt[index] |= bits;
    }

    /** The SPTE at {@code index}. */
    public long spte(int index) {
        return spt[index];
    }

    @Override
    public String toString() {
        return "sp#" + id + "[L" + level + " as" + asId + " gfn 0x" + Long.toHexString(gfn) + (invalid ? " invalid" : "")
                + (freed ? " freed" : "") + "]";
    }
}
