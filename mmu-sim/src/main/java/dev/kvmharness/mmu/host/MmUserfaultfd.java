// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.WaitQueue;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mm side of fs/userfaultfd.c: the mm's {@link Userfaultfd} contexts ({@code userfaultfd(2)}), the
 * fault side {@code handle_userfault()}, {@code userfaultfd_release_all()} when a context closes, and the
 * closing of every context in {@code exit_mmap()}.
 */
final class MmUserfaultfd {
    private final HostMm mm;
    private final SimScheduler sched;
    private final VmaTree vmas;
    private final List<Userfaultfd> contexts = new ArrayList<>();
    /** Each faulting thread waits for its userfault on its own queue (looked up only, never iterated). */
    private final IdentityHashMap<Thread, WaitQueue> faultQueues = new IdentityHashMap<>();

    MmUserfaultfd(HostMm mm, SimScheduler sched, VmaTree vmas) {
        this.mm = mm;
        this.sched = sched;
        this.vmas = vmas;
    }

    /** {@code userfaultfd(2)} + {@code UFFDIO_API}: a new context on the mm. */
    Userfaultfd create() {
        Userfaultfd u = new Userfaultfd(mm, sched);
        contexts.add(u);
        return u;
    }

    /**
     * {@code handle_userfault()}: queue a message for the context's readers and sleep until a resolving
     * ioctl, UFFDIO_WAKE, unregistration or close wakes this fault; the caller then retries from scratch.
     */
    void handleUserfault(Vma vma, long hva, boolean write, boolean minor) {
        Userfaultfd ctx = vma.uffd;
        long address = hva & -(vma.isHugetlb() ? vma.pageSize() : PhysMem.PAGE_SIZE);
        WaitQueue queue = faultQueues.computeIfAbsent(Thread.currentThread(),
                t -> sched.newWaitQueue("userfault " + t.getName()));
        UffdFault f = ctx.raise(new UffdMsg(address, hva, write, minor), queue);
        queue.await(() -> f.woken);
        sched.charge(Cost.UFFD_WAKE);
        ctx.recordWait(sched.now() - f.raisedAtNs);
    }

    /** {@code userfaultfd_release_all()} for one context: clears its registrations and merges what became equal. */
    void releaseAll(Userfaultfd ctx) {
        for (Vma v : vmas.all()) {
            if (v.uffd == ctx) {
                v.uffd = null;
                v.uffdMissing = false;
                v.uffdMinor = false;
            }
        }
        vmas.mergeAll();
    }

    /** The context was closed: the mm no longer lists it. */
    void forget(Userfaultfd ctx) {
        contexts.remove(ctx);
    }

    /** exit_mmap: closes every context (their readers get null, their faults are woken). */
    void closeAll() {
        for (Userfaultfd u : List.copyOf(contexts)) {
            u.close();
        }
    }
}
