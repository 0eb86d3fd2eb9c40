// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * Something in the host that serves one request at a time, in virtual time: a cache line that CPUs take turns
 * to own for their atomics (the count word of {@code mmap_lock}, a wait queue's spinlock), or the memory bus
 * that every CPU's page clearing and copying shares. A request that finds it busy waits until it is free; then
 * the resource is busy for the request's service time. The requesting thread also has work of its own that
 * overlaps the service (a CPU's own copy loop is slower than its share of the bus): it is done when both are.
 *
 * <p>Requests are served in the order simulated threads make them, which is virtual-time order when the caller
 * made a scheduling point just before (every user here does, directly or through a lock acquisition); a
 * thread that has run ahead of others since its last scheduling point books the resource at its own, later,
 * time, so the error is bounded by the distance between scheduling points. Not a scheduling point itself.
 *
 * <p>It counts what contention cost: requests, those that waited, and the total wait in virtual ns.
 */
public final class SharedResource {
    private final SimScheduler sched;
    private final String name;
    private long freeAtNs;
    private SimThread lastUser;
    private long requests;
    private long waited;
    private long waitNs;

    SharedResource(SimScheduler sched, String name) {
        this.sched = sched;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /**
     * One request by the calling thread: waits for the resource, holds it for {@code serviceNs}, and returns when
     * both that and {@code ownNs} of the caller's own work (started at once, overlapping the wait) are done.
     */
    public void use(long serviceNs, long ownNs) {
        SimThread cur = sched.current();
        long start = Math.max(cur.now, freeAtNs);
        long wait = start - cur.now;
        requests++;
        if (wait > 0) {
            waited++;
            waitNs += wait;
        }
        freeAtNs = start + serviceNs;
        lastUser = cur;
        cur.now = Math.max(freeAtNs, cur.now + ownNs);
    }

    /**
     * An atomic read-modify-write on a cache line: free if the caller's CPU still owns the line (it was the last
     * to write it), otherwise the line moves here, one transfer ({@link Cost#CACHELINE_TRANSFER}) at a time.
     * Every simulated thread is its own CPU.
     */
    public void atomic() {
        if (lastUser == sched.current()) {
            return;
        }
        long ns = sched.costs().ns(Cost.CACHELINE_TRANSFER);
        use(ns, ns);
    }

    public long requests() {
        return requests;
    }

    /** Requests that found the resource busy. */
    public long contended() {
        return waited;
    }

    /** Total virtual time requests spent waiting for the resource, ns. */
    public long waitNs() {
        return waitNs;
    }

    @Override
    public String toString() {
        return "SharedResource[" + name + ", " + requests + " requests, " + waited + " waited " + waitNs + " ns]";
    }
}
