// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import dev.kvmharness.mmu.MemoCheck;
import dev.kvmharness.mmu.tdp.KvmMmuPage;

/**
 * What a vCPU's EPT walks last found for the guest's own page-table pages, one entry per guest paging level.
 * Not a hardware structure: the model still does everything the CPU does for each guest PTE read (the EPT walk's
 * cost, the oracle's check of the translation it used); the memo only saves finding the same leaf again. An entry
 * holds while the vCPU walks the same root and no store has overwritten a present SPTE since it was made
 * ({@code SpTable.presentStores()}): the walk then, over present entries only, would find the same present,
 * accessed leaf. With {@link MemoCheck} on (the tests) every hit is checked against a real walk.
 */
final class GuestTableMemo {
    /** Whether every hit is checked against a fresh walk. */
    static final boolean CHECK = MemoCheck.ENABLED;
    /** Guest paging levels 1..5. */
    private static final int LEVELS = 6;

    private final long[] gfn = new long[LEVELS];
    private final long[] pfn = new long[LEVELS];
    private final boolean[] writable = new boolean[LEVELS];
    private final int[] levelsWalked = new int[LEVELS];
    private final KvmMmuPage[] root = new KvmMmuPage[LEVELS];
    private final long[] presentStores = new long[LEVELS];

    GuestTableMemo() {
        for (int i = 0; i < LEVELS; i++) {
            presentStores[i] = -1;
        }
    }

    /** Whether the entry for guest level {@code level} still gives {@code gfn}'s translation under {@code root}. */
    boolean holds(int level, long gfn, KvmMmuPage root, long presentStores) {
        return this.gfn[level] == gfn && this.root[level] == root && this.presentStores[level] == presentStores;
    }

    void remember(int level, long gfn, KvmMmuPage root, long presentStores, long pfn, boolean writable, int levelsWalked) {
        this.gfn[level] = gfn;
        this.root[level] = root;
        this.presentStores[level] = presentStores;
        this.pfn[level] = pfn;
        this.writable[level] = writable;
        this.levelsWalked[level] = levelsWalked;
    }

    /** Forgets everything (the vCPU's root went away, so no entry may keep the table alive). */
    void clear() {
        for (int i = 0; i < LEVELS; i++) {
            root[i] = null;
            presentStores[i] = -1;
        }
    }

    long pfn(int level) {
        return pfn[level];
    }

    boolean writable(int level) {
        return writable[level];
    }

    int levelsWalked(int level) {
        return levelsWalked[level];
    }
}
