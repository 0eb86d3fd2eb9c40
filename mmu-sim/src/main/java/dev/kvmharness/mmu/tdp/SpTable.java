// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.spte.Spte;
import java.util.Arrays;

/**
 * The memory page tables live in: maps the table "physical address" a non-leaf SPTE holds to its
 * {@link KvmMmuPage}. Ids are recycled only after the table was freed by RCU, as the kernel's page allocator
 * reuses freed pages. Id 0 is never handed out so a zero PFN field is never a table.
 */
public final class SpTable {
    private KvmMmuPage[] pages = new KvmMmuPage[1024];
    private int[] freeIds = new int[64];
    private int nrFree;
    private int next = 1;
    private long live;
    /**
     * Stores over a present SPTE so far. A walk over present entries only (a root down to a present leaf) finds
     * the same thing again while this count stands still: installing entries where there were none cannot
     * change it, and the CPU's own Accessed/Dirty updates ({@link KvmMmuPage#hardwareSetBits}) change no
     * translation. The vCPUs' memo of their guest page-table pages' translations ({@code GuestTableMemo})
     * relies on it.
     */
    private long presentStores;

    /** alloc_tdp_mmu_page(): a zeroed table (every entry non-present). */
    KvmMmuPage alloc(int level, int asId, long gfn, long nonPresent) {
        int id = nrFree > 0 ? freeIds[--nrFree] : next++;
        if (id >= pages.length) {
            pages = Arrays.copyOf(pages, pages.length * 2);
        }
        KvmMmuPage sp = new KvmMmuPage(id, level, asId, gfn);
        if (nonPresent != 0) {
            Arrays.fill(sp.spt, nonPresent);
        }
        pages[id] = sp;
        live++;
        return sp;
    }

    /**
     * Writes {@code nw} at {@code index} of {@code sp}: every store to an SPTE by KVM goes through here (the
     * cmpxchg of the atomic paths included: under the baton it cannot fail between the compare and the store).
     */
    void store(KvmMmuPage sp, int index, long nw) {
        if (Spte.isPresent(sp.spt[index])) {
            presentStores++;
        }
        sp.spt[index] = nw;
    }

    /** How many stores so far overwrote a present SPTE (see {@link #store}). */
    public long presentStores() {
        return presentStores;
    }

    /** The table a non-leaf SPTE points at. */
    public KvmMmuPage get(int id) {
        return pages[id];
    }

    /** tdp_mmu_free_sp(), from the RCU callback. */
    void free(KvmMmuPage sp) {
        sp.freed = true;
        pages[sp.id] = null;
        if (nrFree == freeIds.length) {
            freeIds = Arrays.copyOf(freeIds, freeIds.length * 2);
        }
        freeIds[nrFree++] = sp.id;
        live--;
    }

    /** Tables allocated and not yet freed, roots included. */
    public long live() {
        return live;
    }
}
