// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tlb;

/**
 * One vCPU's TLB: a direct-mapped cache of combined translations, guest-virtual page to host pfn, tagged with
 * the gfn and whether the translation allowed writes. The guest uses an entry without asking KVM, which is
 * exactly why KVM must flush it remotely when it zaps or write-protects the SPTE behind it. A flush drops
 * every entry (kvm_vcpu_flush_tlb_all).
 */
public final class Tlb {
    /** Words per entry in {@link #entries}: the tag, the gfn, pfn << 1 | writable, and the flush epoch it was filled in. */
    private static final int STRIDE = 4;
    private static final int TAG = 0, GFN = 1, PFN = 2, EPOCH = 3;
    /**
     * The entries, each one's words side by side so that a lookup or a fill touches one cache line: with
     * hundreds of vCPUs the TLBs do not stay in the CPU's caches between a vCPU's turns. A tag is gva page + 1
     * (0: never filled); an entry is valid only if filled in the current {@link #epoch}.
     */
    private final long[] entries;
    /** Bumped by every flush, which so drops all entries at once instead of clearing the array. */
    private long epoch = 1;
    private final int mask;
    private int used;
    /**
     * The slots made valid since the last flush, the first {@link #used} of them: what {@link #validSlot}
     * enumerates, so a check of every cached translation costs what the TLB holds, not its capacity.
     */
    private final int[] filled;

    public Tlb(int entries) {
        this.entries = new long[entries * STRIDE];
        this.filled = new int[entries];
        mask = entries - 1;
    }

    private int slot(long gvaPage) {
        long h = gvaPage * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** The slot holding {@code gvaPage}, or -1 on a miss. */
    public int lookup(long gvaPage) {
        int s = slot(gvaPage);
        int e = s * STRIDE;
        return entries[e + TAG] == gvaPage + 1 && entries[e + EPOCH] == epoch ? s : -1;
    }

    public long pfn(int slot) {
        return entries[slot * STRIDE + PFN] >>> 1;
    }

    public boolean writable(int slot) {
        return (entries[slot * STRIDE + PFN] & 1) != 0;
    }

    public long gfn(int slot) {
        return entries[slot * STRIDE + GFN];
    }

    public long gvaPage(int slot) {
        return entries[slot * STRIDE + TAG] - 1;
    }

    public boolean isValid(int slot) {
        return entries[slot * STRIDE + EPOCH] == epoch;
    }

    public void fill(long gvaPage, long gfn, long pfn, boolean writable) {
        int s = slot(gvaPage);
        int e = s * STRIDE;
        if (entries[e + EPOCH] != epoch) {
            filled[used++] = s;
            entries[e + EPOCH] = epoch;
        }
        entries[e + TAG] = gvaPage + 1;
        entries[e + GFN] = gfn;
        entries[e + PFN] = pfn << 1 | (writable ? 1 : 0);
    }

    /** kvm_vcpu_flush_tlb_all(): drops every translation. */
    public void flushAll() {
        if (used != 0) {
            epoch++;
            used = 0;
        }
    }

    /** The slot of the i-th valid entry, 0 <= i < {@link #used()}; in the order they were filled. */
    public int validSlot(int i) {
        if (i >= used) {
            throw new IndexOutOfBoundsException(i + " of " + used + " valid entries");
        }
        return filled[i];
    }

    /** Entries currently valid. */
    public int used() {
        return used;
    }

    public int capacity() {
        return mask + 1;
    }
}
