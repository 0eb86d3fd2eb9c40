// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random MMU histories run by several simulated threads at once on the deterministic scheduler: each vCPU
 * faulting on its own thread, a host thread (MADV_DONTNEED, partial ones splitting THPs), a reclaim thread
 * aging the guest's memory (clear_flush_young, which 6.15 runs without mmu_lock), a memslot thread (moves, deletes, creates over cached MMIO, dirty-log toggles and ioctls) and a KVM thread
 * (fast zaps whose invalidated roots are zapped with yields or by the async worker, kvm_zap_gfn_range, NX
 * recovery). Every operation is preceded by a drawn delay, so different seeds interleave them differently, and
 * the threads meet at the model's scheduling points: between kvm_faultin_pfn() and taking mmu_lock, in a
 * zapper's cond_resched, in the lock queues. These are the windows the fault path's staleness check, the
 * invalid-root zap and the RCU-deferred free exist for.
 */
public final class ConcurrentMmuHistory {
    /** One thread's step: wait {@code delayNs} of virtual time, then do {@code op}. */
    public record Step(long delayNs, MmuOp op) {
    }

    /** The threads' scripts, by role: one per vCPU, then host, reclaim, memslots, kvm. */
    public record Case(MmuHistory.Setup setup, List<List<Step>> vcpus, List<Step> host, List<Step> reclaim, List<Step> memslots,
                       List<Step> kvm) {
    }

    private ConcurrentMmuHistory() {
    }

    public static Case generate(SplittableRandom r, int length) {
        MmuHistory.Setup s = MmuHistory.setup(r, 3);
        List<List<Step>> vcpus = new ArrayList<>();
        for (int i = 0; i < s.vcpus(); i++) {
            vcpus.add(new ArrayList<>());
        }
        List<Step> host = new ArrayList<>();
        List<Step> reclaim = new ArrayList<>();
        List<Step> memslots = new ArrayList<>();
        List<Step> kvm = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            MmuOp op = MmuHistory.op(r, s);
            // delays of the order of a fault or a zap, so operations on different threads overlap
            Step step = new Step(r.nextInt(4) == 0 ? 0 : r.nextLong(3000), op);
            if (op instanceof MmuOp.Access a) {
                vcpus.get(a.vcpu()).add(step);
            } else if (op instanceof MmuOp.Dontneed) {
                host.add(step);
            } else if (op instanceof MmuOp.Age) {
                reclaim.add(step);
            } else if (op instanceof MmuOp.NxRecover || op instanceof MmuOp.ZapAllFast || op instanceof MmuOp.ZapGfnRange) {
                kvm.add(step);
            } else {
                memslots.add(step);
            }
        }
        return new Case(s, vcpus, host, reclaim, memslots, kvm);
    }

    /**
     * Runs {@code c} under {@code policy}: the threads start together and the test thread joins them. Returns
     * what the oracle found plus the invariant failures, and any thread's exception (a WARN of the model, a
     * deadlock).
     */
    public static List<String> run(Case c, Policy policy, long seed) {
        List<String> problems = new ArrayList<>();
        try (MmuWorld w = MmuHistory.world(c.setup(), policy, seed)) {
            List<SimThread> threads = new ArrayList<>();
            for (int i = 0; i < c.vcpus().size(); i++) {
                threads.add(spawn(w, "vcpu" + i, c.vcpus().get(i)));
            }
            threads.add(spawn(w, "host", c.host()));
            threads.add(spawn(w, "reclaim", c.reclaim()));
            threads.add(spawn(w, "memslots", c.memslots()));
            threads.add(spawn(w, "kvm", c.kvm()));
            problems.addAll(w.joinAll(threads));
            if (problems.isEmpty()) {
                String coverage = w.oracle.checkDirtyLogCoverage();
                if (coverage != null) {
                    problems.add("dirty log: " + coverage);
                }
            }
            MmuHistory.finish(w, problems);
        }
        return problems;
    }

    private static SimThread spawn(MmuWorld w, String name, List<Step> steps) {
        return w.sched.spawn(name, () -> {
            for (Step s : steps) {
                w.sched.sleep(s.delayNs());
                MmuHistory.apply(w, s.op());
            }
        });
    }
}
