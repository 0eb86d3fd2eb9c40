// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SharedResource;
import dev.kvmharness.mmu.sched.SimRwLock;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.IdentityHashMap;

/**
 * What allocating, clearing and copying a page costs the host when many CPUs do it at once (mm/page_alloc.c,
 * clear_page, copy_page). {@link PhysMem} decides which pfn; this class charges the time:
 * <ul>
 * <li>An order-0 page comes from the CPU's per-CPU list ({@code struct per_cpu_pages}); an empty list is
 * refilled with {@link #PCP_BATCH} pages by {@code rmqueue_bulk()} under the zone's spinlock, which all CPUs
 * share ({@link Cost#ZONE_LOCK_PAGE} per page held). Larger folios (THP) take the zone lock themselves.
 * Hugetlb pages come from their pool and cost {@link Cost#HOST_PAGE_ALLOC} only.</li>
 * <li>Clearing and copying are the CPU's own loop ({@link Cost#HOST_PAGE_ZERO}, {@link Cost#HOST_PAGE_COPY})
 * and traffic on the memory bus all CPUs share ({@link Cost#MEM_BUS_4K} per 4 KiB written, and as much again
 * per 4 KiB read by a copy).</li>
 * </ul>
 * One zone: the model has one NUMA node. Freeing is not charged.
 */
final class PageAllocator {
    /** pcp->batch of a large zone (zone_batchsize()): pages moved per refill of a per-CPU list. */
    static final int PCP_BATCH = 63;

    private final SimScheduler sched;
    private final SimRwLock zoneLock;
    private final SharedResource memBus;
    /** Pages left on each simulated thread's per-CPU list (each thread is its own CPU). */
    private final IdentityHashMap<SimThread, int[]> pcp = new IdentityHashMap<>();
    /** The last thread that allocated and its list: most allocations follow one by the same thread. */
    private SimThread lastThread;
    private int[] lastList;

    PageAllocator(SimScheduler sched) {
        this.sched = sched;
        this.zoneLock = sched.newRwLock("zone->lock");
        this.memBus = sched.newSharedResource("memory bus");
    }

    /** Allocating one order-0 page: from the per-CPU list, refilling it under the zone lock when empty. */
    void allocPage() {
        sched.charge(Cost.HOST_PAGE_ALLOC);
        SimThread cur = sched.current();
        int[] left = cur == lastThread ? lastList : pcp.computeIfAbsent(cur, t -> new int[1]);
        lastThread = cur;
        lastList = left;
        if (left[0] == 0) {
            underZoneLock(PCP_BATCH);
            left[0] = PCP_BATCH;
        }
        left[0]--;
    }

    /** Allocating one THP folio from the zone directly: one buddy allocation under the zone lock. */
    void allocFolio() {
        sched.charge(Cost.HOST_PAGE_ALLOC);
        underZoneLock(1);
    }

    /** {@code pages} pages' worth of work under the zone lock; CPUs that arrive meanwhile find it held. */
    private void underZoneLock(long pages) {
        zoneLock.writeLock();
        sched.charge(Cost.ZONE_LOCK_PAGE, pages);
        sched.yieldPoint();
        zoneLock.writeUnlock();
    }

    /** A hugetlb page from the pool (its lock is not modelled). */
    void allocHugetlb() {
        sched.charge(Cost.HOST_PAGE_ALLOC);
    }

    /** Clearing {@code pages} 4 KiB pages. */
    void zero(long pages) {
        memBus.use(sched.costs().ns(Cost.MEM_BUS_4K) * pages, sched.costs().ns(Cost.HOST_PAGE_ZERO) * pages);
    }

    /** Copying {@code pages} 4 KiB pages (read and write). */
    void copy(long pages) {
        memBus.use(2 * sched.costs().ns(Cost.MEM_BUS_4K) * pages, sched.costs().ns(Cost.HOST_PAGE_COPY) * pages);
    }

    SimRwLock zoneLock() {
        return zoneLock;
    }

    SharedResource memBus() {
        return memBus;
    }
}
