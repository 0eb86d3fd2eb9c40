// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.spte.Spte;

/**
 * The one walk of a root for one gfn, from the root down to the last SPTE on the path (a leaf, or the
 * non-present entry where the walk stopped): what the CPU's EPT walk does, and what KVM does in
 * kvm_tdp_mmu_get_walk() and kvm_tdp_mmu_fast_pf_get_last_sptep() (tdp_mmu_for_each_pte over [gfn, gfn + 1)).
 * The vCPU's access path, fast_page_fault() and the checkers all walk with it.
 *
 * <p>A reusable cursor, so the per-access walk allocates nothing: {@link #walk} overwrites the previous result,
 * which the named accessors then read.
 */
public final class EptWalk {
    private final SpTable tables;
    private long gfn;
    private KvmMmuPage table;
    private int index;
    private long spte;
    private int level;
    private int levelsWalked;
    private boolean reachedFreedTable;

    /** A walker over the tables of {@code tables} (the TDP MMU's {@link TdpMmu#tables()}). */
    public EptWalk(SpTable tables) {
        this.tables = tables;
    }

    /**
     * Walks {@code root} for {@code gfn}. Stops at the first non-present or last-level SPTE, or where a
     * non-leaf SPTE points at a table RCU has already freed ({@link #reachedFreedTable()}; the hardware walk of
     * a vCPU that kept a stale root can get there, KVM's own walks under RCU cannot).
     *
     * @return this walker, holding the result
     */
    public EptWalk walk(KvmMmuPage root, long gfn) {
        // Locals in the loop, one store of each result field at the end: this is the per-access path.
        KvmMmuPage t = root;
        int lvl = root.level;
        boolean freed = false;
        int idx;
        long s;
        while (true) {
            idx = Spte.index(gfn, lvl);
            s = t.spt[idx];
            if (!Spte.isPresent(s) || Spte.isLastLevel(s, lvl)) {
                break;
            }
            KvmMmuPage child = tables.get((int) Spte.pfn(s));
            if (child == null) { // tdp_mmu_free_sp() drops a freed table from the id table
                freed = true;
                break;
            }
            t = child;
            lvl--;
        }
        this.gfn = gfn;
        table = t;
        index = idx;
        spte = s;
        level = lvl;
        reachedFreedTable = freed;
        levelsWalked = root.level - lvl + 1;
        return this;
    }

    /** The gfn walked for. */
    public long gfn() {
        return gfn;
    }

    /** The last SPTE the walk read: a leaf, a non-present value, or (if {@link #reachedFreedTable()}) a table pointer. */
    public long spte() {
        return spte;
    }

    /** The level of {@link #spte()} (Spte.PG_LEVEL_4K for a 4K leaf). */
    public int level() {
        return level;
    }

    /** The table holding {@link #spte()}. */
    public KvmMmuPage table() {
        return table;
    }

    /** The index of {@link #spte()} in {@link #table()}. */
    public int index() {
        return index;
    }

    /** How many paging-structure entries the walk read (root level down to {@link #level()}). */
    public int levelsWalked() {
        return levelsWalked;
    }

    /** Whether the walk stopped at a non-leaf SPTE pointing to a freed table: a use-after-free. */
    public boolean reachedFreedTable() {
        return reachedFreedTable;
    }

    /** Whether the walk ended on a present leaf SPTE. */
    public boolean isPresentLeaf() {
        return !reachedFreedTable && Spte.isPresent(spte);
    }

    /** The host pfn the leaf maps gfn to (its base pfn plus gfn's offset inside a huge page); needs a present leaf. */
    public long pfn() {
        return Spte.pfn(spte) + (gfn & (Spte.pagesPerEntry(level) - 1));
    }

    /** Whether the leaf allows writes. */
    public boolean writable() {
        return Spte.isWritable(spte);
    }

    @Override
    public String toString() {
        return String.format("walk for gfn 0x%x: SPTE 0x%x at level %d%s", gfn, spte, level,
                reachedFreedTable ? " (reached a freed table)" : "");
    }
}
