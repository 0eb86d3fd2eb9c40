// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.oracle;

import java.util.Arrays;

/**
 * Translations the oracle's {@code spteUsed()} check found valid, direct-mapped by gfn, each with the memslot
 * generation and the host's {@code mappingChanges()} it was checked at. While neither moved, the same
 * translation passes the same checks: the page is still live, the same memslot backs the gfn, and the host
 * still maps the slot's hva to the same page. Only translations whose host page was mapped (or that a private
 * slot backs) are kept, since a later host fault could map an unmapped hva to another page. A vCPU's guest
 * page walk uses the same four page-table translations for every TLB miss; this is where their checks go.
 */
final class CheckedTranslations {
    private static final int ENTRIES = 64;

    private final long[] gfn = new long[ENTRIES];
    private final long[] pfn = new long[ENTRIES];
    private final boolean[] writable = new boolean[ENTRIES];
    private final long[] slotGeneration = new long[ENTRIES];
    private final long[] hostChanges = new long[ENTRIES];

    CheckedTranslations() {
        Arrays.fill(gfn, -1);
    }

    private static int slot(long gfn) {
        return (int) gfn & (ENTRIES - 1);
    }

    boolean holds(long gfn, long pfn, boolean writable, long slotGeneration, long hostChanges) {
        int i = slot(gfn);
        return this.gfn[i] == gfn && this.pfn[i] == pfn && this.writable[i] == writable
                && this.slotGeneration[i] == slotGeneration && this.hostChanges[i] == hostChanges;
    }

    void remember(long gfn, long pfn, boolean writable, long slotGeneration, long hostChanges) {
        int i = slot(gfn);
        this.gfn[i] = gfn;
        this.pfn[i] = pfn;
        this.writable[i] = writable;
        this.slotGeneration[i] = slotGeneration;
        this.hostChanges[i] = hostChanges;
    }
}
