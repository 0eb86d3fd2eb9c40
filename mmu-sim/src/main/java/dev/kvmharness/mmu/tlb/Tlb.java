// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tlb;

import java.util.Arrays;

/**
 * One vCPU's TLB: a direct-mapped cache of combined translations, guest-virtual page to host pfn, tagged with
 * the gfn and whether the translation allowed writes. The guest uses an entry without asking KVM, which is
 * exactly why KVM must flush it remotely when it zaps or write-protects the SPTE behind it. A flush drops
 * every entry (kvm_vcpu_flush_tlb_all).
 */
public final class Tlb {
    private final long[] tags;
    private final long[] gfns;
    /** pfn << 1 | writable. */
    private final long[] pfns;
    private final int mask;
    private int used;

    public Tlb(int entries) {
        tags = new long[entries];
        gfns = new long[entries];
        pfns = new long[entries];
        mask = entries - 1;
    }

    private int slot(long gvaPage) {
        long h = gvaPage * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** The slot holding {@code gvaPage}, or -1 on a miss. */
    public int lookup(long gvaPage) {
        int s = slot(gvaPage);
        return tags[s] == gvaPage + 1 ? s : -1;
    }

    public long pfn(int slot) {
        return pfns[slot] >>> 1;
    }

    public boolean writable(int slot) {
        return (pfns[slot] & 1) != 0;
    }

    public long gfn(int slot) {
        return gfns[slot];
    }

    public long gvaPage(int slot) {
        return tags[slot] - 1;
    }

    public boolean isValid(int slot) {
        return tags[slot] != 0;
    }

    public void fill(long gvaPage, long gfn, long pfn, boolean writable) {
        int s = slot(gvaPage);
        if (tags[s] == 0) {
            used++;
        }
        tags[s] = gvaPage + 1;
        gfns[s] = gfn;
        pfns[s] = pfn << 1 | (writable ? 1 : 0);
    }

    /** kvm_vcpu_flush_tlb_all(): drops every translation. */
    public void flushAll() {
        if (used != 0) {
            Arrays.fill(tags, 0);
            used = 0;
        }
    }

    /** Entries currently valid. */
    public int used() {
        return used;
    }

    public int capacity() {
        return tags.length;
    }
}
