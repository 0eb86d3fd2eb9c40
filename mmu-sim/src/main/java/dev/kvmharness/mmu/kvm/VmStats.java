// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * struct kvm_vm_stat for x86 with the TDP MMU, under KVM's binary-stats names and in the order KVM's stats fd
 * lists them. The shadow-MMU counters exist and stay 0, as they do on a TDP host.
 */
public final class VmStats {
    public long remoteTlbFlush;
    public long remoteTlbFlushRequests;
    public long mmuShadowZapped;
    public long mmuPteWrite;
    public long mmuPdeZapped;
    public long mmuFlooded;
    public long mmuRecycled;
    public long mmuCacheMiss;
    public long mmuUnsync;
    /** pages_4k / pages_2m / pages_1g, indexed by level (1..3). */
    public final long[] pages = new long[4];
    public long nxLpageSplits;
    public long maxMmuRmapSize;
    public long maxMmuPageHashCollisions;

    /** Name, kind and value of each stat, in KVM's order. */
    public Map<String, Stat> snapshot() {
        Map<String, Stat> m = new LinkedHashMap<>();
        put(m, "remote_tlb_flush", StatKind.CUMULATIVE, remoteTlbFlush);
        put(m, "remote_tlb_flush_requests", StatKind.CUMULATIVE, remoteTlbFlushRequests);
        put(m, "mmu_shadow_zapped", StatKind.CUMULATIVE, mmuShadowZapped);
        put(m, "mmu_pte_write", StatKind.CUMULATIVE, mmuPteWrite);
        put(m, "mmu_pde_zapped", StatKind.CUMULATIVE, mmuPdeZapped);
        put(m, "mmu_flooded", StatKind.CUMULATIVE, mmuFlooded);
        put(m, "mmu_recycled", StatKind.CUMULATIVE, mmuRecycled);
        put(m, "mmu_cache_miss", StatKind.CUMULATIVE, mmuCacheMiss);
        put(m, "mmu_unsync", StatKind.INSTANT, mmuUnsync);
        put(m, "pages_4k", StatKind.INSTANT, pages[1]);
        put(m, "pages_2m", StatKind.INSTANT, pages[2]);
        put(m, "pages_1g", StatKind.INSTANT, pages[3]);
        put(m, "nx_lpage_splits", StatKind.INSTANT, nxLpageSplits);
        put(m, "max_mmu_rmap_size", StatKind.PEAK, maxMmuRmapSize);
        put(m, "max_mmu_page_hash_collisions", StatKind.PEAK, maxMmuPageHashCollisions);
        return m;
    }

    static void put(Map<String, Stat> m, String name, StatKind kind, long value) {
        m.put(name, new Stat(kind, value));
    }

    /** One stat's kind and value. */
    public record Stat(StatKind kind, long value) {
    }
}
