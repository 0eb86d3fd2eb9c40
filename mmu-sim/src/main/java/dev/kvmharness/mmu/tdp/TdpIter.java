// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.spte.Spte;

/**
 * struct tdp_iter and tdp_iter.c: a pre-order walk over the SPTEs of one root that map [start, end), visiting
 * every level down to {@code minLevel}. Upper-level entries whose span only partly overlaps the range are
 * visited too (their gfn may lie below {@code start}), which is why a leaf zap removes a whole huge page that
 * merely overlaps the range. After a yield ({@link #markYielded()}) the next step restarts from the root at
 * the goal gfn, because the tables walked so far may have been freed meanwhile.
 */
public final class TdpIter {
    private final SpTable tables;
    private final KvmMmuPage[] ptPath = new KvmMmuPage[6];
    private KvmMmuPage root;
    private int rootLevel;
    private int minLevel;
    private long end;
    private long nextLastLevelGfn;
    private long yieldedGfn;
    private int level;
    private long gfn;
    private KvmMmuPage table;
    private int index;
    /** The SPTE as read when the iterator arrived (iter->old_spte); refreshed by a failed cmpxchg. */
    long oldSpte;
    private boolean valid;
    private boolean yielded;

    /** tdp_iter_start() with the loop bound of for_each_tdp_pte_min_level(). */
    public TdpIter(SpTable tables, KvmMmuPage root, int minLevel, long start, long end) {
        this.tables = tables;
        start(root, minLevel, start, end);
    }

    /** tdp_iter_start() again on this iterator: a new walk without a new object (the fault path's hot loop). */
    public TdpIter start(KvmMmuPage root, int minLevel, long start, long end) {
        this.root = root;
        this.rootLevel = root.level;
        this.minLevel = minLevel;
        this.end = end;
        this.nextLastLevelGfn = start;
        restart();
        return this;
    }

    /** tdp_iter_restart(): back to the root, aimed at the goal gfn. */
    private void restart() {
        yielded = false;
        yieldedGfn = nextLastLevelGfn;
        level = rootLevel;
        gfn = Spte.alignDown(nextLastLevelGfn, level);
        ptPath[level] = root;
        table = root;
        index = Spte.index(gfn, level);
        oldSpte = table.spt[index];
        valid = true;
    }

    /** Whether the walk still has an SPTE to show (valid and below the end of the range). */
    public boolean hasCurrent() {
        return valid && gfn < end;
    }

    /** tdp_iter_next(). */
    public void next() {
        if (yielded) {
            restart();
            return;
        }
        if (stepDown()) {
            return;
        }
        do {
            if (stepSide()) {
                return;
            }
        } while (stepUp());
        valid = false;
    }

    private boolean stepDown() {
        if (level == minLevel) {
            return false;
        }
        long spte = table.spt[index];
        oldSpte = spte;
        if (!Spte.isPresent(spte) || Spte.isLastLevel(spte, level)) {
            return false;
        }
        KvmMmuPage child = tables.get((int) Spte.pfn(spte));
        level--;
        ptPath[level] = child;
        table = child;
        gfn = Spte.alignDown(nextLastLevelGfn, level);
        index = Spte.index(gfn, level);
        oldSpte = table.spt[index];
        return true;
    }

    private boolean stepSide() {
        if (index == Spte.PT_ENTRIES - 1) {
            return false;
        }
        gfn += Spte.pagesPerEntry(level);
        nextLastLevelGfn = gfn;
        index++;
        oldSpte = table.spt[index];
        return true;
    }

    private boolean stepUp() {
        if (level == rootLevel) {
            return false;
        }
        level++;
        gfn = Spte.alignDown(gfn, level);
        table = ptPath[level];
        index = Spte.index(gfn, level);
        return true;
    }

    /** Marks the walk as having dropped RCU and mmu_lock: the next step restarts from the root. */
    public void markYielded() {
        yielded = true;
    }

    /** Forward progress since the last (re)start: a yield is only worth it then (tdp_mmu_iter_need_resched). */
    public boolean madeProgress() {
        return nextLastLevelGfn != yieldedGfn;
    }

    public boolean yielded() {
        return yielded;
    }

    public int level() {
        return level;
    }

    public long gfn() {
        return gfn;
    }

    public long oldSpte() {
        return oldSpte;
    }

    /** The table holding the current SPTE and its index: the sptep. */
    public KvmMmuPage table() {
        return table;
    }

    public int index() {
        return index;
    }

    public KvmMmuPage root() {
        return root;
    }

    /** Re-reads the current SPTE (what READ_ONCE(*iter->sptep) would see now). */
    public long readSpte() {
        return table.spt[index];
    }

    /** Sets the iterator's snapshot, after a failed cmpxchg returned the value it found. */
    void setOldSpte(long v) {
        oldSpte = v;
    }
}
