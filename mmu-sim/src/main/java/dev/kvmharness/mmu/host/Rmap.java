// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.MemoCheck;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The reverse map ({@code rmap_walk()} of mm/rmap.c) as idle page tracking and pagemap need it: every place a
 * folio is mapped, as (VMA, address, leaf level). The kernel finds them from the folio itself ({@code anon_vma}
 * and the folio's index for anonymous memory, the file's {@code i_mmap} tree for shared memory). The model keeps
 * no back pointer per page, which would cost every fault; it indexes the page tables when first asked instead,
 * folio head pfn to the addresses of the leaves mapping it, and indexes them again only after a leaf was
 * installed ({@link HostPageTable#installs()}) or a mapping removed or a page freed ({@link HostMm#mappingChanges()})
 * since. An index built while both stand still answers exactly what a walk of the page tables would; under
 * {@code -Dkvmharness.sim.checkMemos=true} each answer is also checked against the page tables.
 *
 * <p>Costs no virtual time of its own: what the kernel's walk costs is charged by the caller per mapping.
 */
final class Rmap {
    /** One place a folio is mapped: the leaf at {@code hva} (aligned to its size) of {@code vma}. */
    interface Visitor {
        void mapping(Vma vma, long hva, int level);
    }

    private final PhysMem phys;
    private final HostPageTable pt;
    private final VmaTree vmas;
    private final HostMm mm;
    /** Head pfn to the address of its first mapping: open addressing, key 0 empty (no pfn is 0). */
    private long[] keys = new long[0];
    private long[] hvas = new long[0];
    /** Heads mapped more than once (an alias of shared memory): the further addresses, in index order. */
    private final Map<Long, long[]> more = new HashMap<>();
    private int size;
    private long builtInstalls = -1;
    private long builtChanges = -1;
    private long builds;

    Rmap(PhysMem phys, HostPageTable pt, VmaTree vmas, HostMm mm) {
        this.phys = phys;
        this.pt = pt;
        this.vmas = vmas;
        this.mm = mm;
    }

    /**
     * {@code rmap_walk()}: calls v for every leaf mapping the folio whose head is {@code head}, in address order.
     * The addresses are taken before the first call; v may sleep (an MMU notifier taking mmu_lock), and a mapping
     * that went away meanwhile is skipped, as {@code page_vma_mapped_walk()} would find nothing there.
     */
    void walk(long head, Visitor v) {
        refresh();
        long first = get(head);
        if (first == 0) {
            return;
        }
        long[] rest = more.get(head);
        long[] all = new long[1 + (rest == null ? 0 : rest.length)];
        all[0] = first;
        if (rest != null) {
            System.arraycopy(rest, 0, all, 1, rest.length);
        }
        if (MemoCheck.ENABLED) {
            for (long hva : all) {
                check(head, hva);
            }
        }
        for (long hva : all) {
            PageWalk w = pt.walk(hva);
            if (w.mapped() && phys.isLive(w.pfn()) && phys.compoundHead(w.pfn()) == head) {
                v.mapping(vmas.find(hva), hva, w.level);
            }
        }
    }

    /** {@code folio_mapcount()}: how many leaves map the folio whose head is {@code head}. */
    int mapcount(long head) {
        refresh();
        if (get(head) == 0) {
            return 0;
        }
        long[] rest = more.get(head);
        return 1 + (rest == null ? 0 : rest.length);
    }

    /** How many times the index was built (for tests: it must not be rebuilt while nothing changed). */
    long builds() {
        return builds;
    }

    /** The index's answer against the page table: any difference is a mapping change the counters missed. */
    private void check(long head, long hva) {
        PageWalk w = pt.walk(hva);
        if (!w.mapped() || !phys.isLive(w.pfn()) || phys.compoundHead(w.pfn()) != head) {
            throw new IllegalStateException(String.format("rmap index is stale: it maps folio 0x%x at 0x%x, where the page"
                    + " table has %s; a leaf was installed without HostPageTable.installs() or removed without"
                    + " HostMm.mappingChanges() moving", head, hva, w.mapped() ? "pfn 0x" + Long.toHexString(w.pfn()) : "nothing"));
        }
    }

    private void refresh() {
        long installs = pt.installs();
        long changes = mm.mappingChanges();
        if (installs == builtInstalls && changes == builtChanges) {
            return;
        }
        keys = new long[Math.max(16, Integer.highestOneBit(Math.max(1, size) * 2) * 2)];
        hvas = new long[keys.length];
        more.clear();
        size = 0;
        for (Vma vma : vmas.all()) {
            pt.walk(vma.start, vma.end, (hva, level) -> {
                if (hva < vma.start) {
                    return; // a huge leaf straddling two VMAs was indexed with the first
                }
                add(phys.compoundHead(pt.walk(hva).pfn()), hva);
            });
        }
        builtInstalls = installs;
        builtChanges = changes;
        builds++;
    }

    private void add(long head, long hva) {
        int i = find(head);
        if (keys[i] == head) {
            long[] rest = more.get(head);
            long[] grown = rest == null ? new long[1] : Arrays.copyOf(rest, rest.length + 1);
            grown[grown.length - 1] = hva;
            more.put(head, grown);
            return;
        }
        keys[i] = head;
        hvas[i] = hva;
        if (++size * 2 > keys.length) {
            grow();
        }
    }

    private long get(long head) {
        int i = find(head);
        return keys[i] == head ? hvas[i] : 0;
    }

    /** The slot of key, or the empty slot where it would go. */
    private int find(long key) {
        int mask = keys.length - 1;
        int i = (int) ((key * 0x9E3779B97F4A7C15L) >>> 40) & mask;
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldHvas = hvas;
        keys = new long[oldKeys.length * 2];
        hvas = new long[keys.length];
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != 0) {
                int i = find(oldKeys[j]);
                keys[i] = oldKeys[j];
                hvas[i] = oldHvas[j];
            }
        }
    }
}
