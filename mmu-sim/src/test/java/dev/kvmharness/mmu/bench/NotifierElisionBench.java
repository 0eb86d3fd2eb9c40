// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Item (c), seed 001's goal: "take mmu_lock if and only if the notification is relevant to KVM, i.e. the hva range
 * overlaps a memslot". A large static VM (guest RAM in 2M hugetlb pages, all mapped before the measurement) whose
 * vCPUs keep demand-faulting a 4K-backed region while the host process sends MMU notifications: most for its own
 * memory outside every memslot (QEMU's heap returning memory with MADV_DONTNEED, thread stacks unmapped), a few
 * inside guest memory (a balloon giving a 4K page back). Counted per policy: the notifier callbacks KVM received
 * and how many took mmu_lock ({@code KvmMmuNotifier.callbacks()/lockedCallbacks()}), the
 * mmu_invalidate_seq bumps, the faults the vCPUs took (an invalidation in progress or a sequence bump makes a
 * racing fault retry) and what mmu_lock cost them.
 *
 * <p>Run with {@code ci/bench.sh seed-notifier [--policy SPEC]... [--seed N] [--vcpus N] [--outside N] [--inside N]}.
 */
public final class NotifierElisionBench {
    static final int SLOT_STATIC = 1;
    static final int SLOT_DYNAMIC = 2;
    static final long STATIC_GPA = 4L << 30;
    static final long DYNAMIC_GPA = 1L << 30;
    private static final long PAGE = 4096;
    private static final long HUGE = 2L << 20;

    /**
     * One run's shape.
     *
     * @param vcpus vCPUs, each faulting its own part of the dynamic region
     * @param staticBytes hugetlb-backed guest RAM, mapped (2M SPTEs) before the measurement
     * @param faultsPerVcpu fresh 4K pages each vCPU faults in during the measurement
     * @param outside notifications (MADV_DONTNEED or munmap pairs) for host memory outside every memslot
     * @param inside notifications for single 4K pages of the dynamic region
     * @param periodNs virtual time between two notifications
     */
    public record Config(int vcpus, long staticBytes, int faultsPerVcpu, int outside, int inside, long periodNs) {
        public Config {
            if (vcpus < 1 || outside < 0 || inside < 0 || faultsPerVcpu < 1 || staticBytes % HUGE != 0 || staticBytes <= 0) {
                throw new IllegalArgumentException("bad notifier benchmark config " + this);
            }
        }

        public static Config standard() {
            return new Config(32, 8L << 30, 1024, 2000, 20, 1000);
        }

        public static Config small() {
            return new Config(4, 64L << 20, 128, 200, 10, 1000);
        }

        Config with(int vcpus, int outside, int inside) {
            return new Config(vcpus, staticBytes, faultsPerVcpu, outside, inside, periodNs);
        }
    }

    /**
     * What one run measured.
     *
     * @param callbacks notifier callbacks KVM received (start and end each count)
     * @param lockedCallbacks of those, the ones that took mmu_lock for write
     * @param seqBumps mmu_invalidate_seq increments
     * @param pfTaken faults the vCPUs took for their {@code vcpus * faultsPerVcpu} fresh pages
     * @param lockWaitNs virtual time threads spent waiting for mmu_lock
     * @param contended mmu_lock acquisitions that had to wait
     * @param vcpuNs virtual time until the last vCPU finished its faults
     */
    public record Result(Policy policy, long callbacks, long lockedCallbacks, long seqBumps, long pfTaken, long lockWaitNs,
                         long contended, long vcpuNs, int violations) {
    }

    private NotifierElisionBench() {
    }

    public static Result run(Config cfg, Policy policy, long seed) {
        try (SeedVm vm = new SeedVm(seed, SimConfig.defaults().withPolicy(policy), cfg.vcpus())) {
            long dynamicBytes = (long) cfg.vcpus() * cfg.faultsPerVcpu() * PAGE;
            long staticHva = vm.mm.mmap(cfg.staticBytes(), Backing.ANON_HUGETLB_2M);
            long dynamicHva = vm.mm.mmap(dynamicBytes, Backing.ANON);
            vm.setSlot(SLOT_STATIC, 0, STATIC_GPA, cfg.staticBytes(), staticHva);
            vm.setSlot(SLOT_DYNAMIC, 0, DYNAMIC_GPA, dynamicBytes, dynamicHva);
            // QEMU's own memory: arenas it returns with MADV_DONTNEED, stacks it unmaps.
            long arena = vm.mm.mmap(64L << 20, Backing.ANON);
            // The static part is mapped first, spread over the vCPUs: one 2M fault per huge page.
            List<SimThread> warm = new ArrayList<>();
            long hugePages = cfg.staticBytes() / HUGE;
            for (int v = 0; v < cfg.vcpus(); v++) {
                int id = v;
                warm.add(vm.spawn("warm" + id, () -> {
                    long mine = (hugePages - id + cfg.vcpus() - 1) / cfg.vcpus();
                    vm.run(id, (int) mine, i -> STATIC_GPA + (id + (long) i * cfg.vcpus()) * HUGE, i -> true, 10);
                }));
            }
            vm.joinAll(warm);
            long callbacks0 = vm.kvm.notifier().callbacks();
            long locked0 = vm.kvm.notifier().lockedCallbacks();
            long seq0 = vm.kvm.invalidate().seq();
            long wait0 = vm.kvm.mmuLock().waitNs();
            long contended0 = vm.kvm.mmuLock().contendedAcquisitions();
            long pf0 = 0;
            for (SimVcpu c : vm.vcpus) {
                pf0 += c.stats().pfTaken;
            }
            long t0 = vm.sched.now();
            long[] vcpuEnd = new long[1];
            List<SimThread> threads = new ArrayList<>();
            for (int v = 0; v < cfg.vcpus(); v++) {
                int id = v;
                threads.add(vm.spawn("vcpu" + id, () -> {
                    long base = DYNAMIC_GPA + (long) id * cfg.faultsPerVcpu() * PAGE;
                    // Runs of 16 fresh pages, with reads of the static part (TLB and EPT hits) in between.
                    for (int done = 0; done < cfg.faultsPerVcpu(); done += 16) {
                        int from = done;
                        int n = Math.min(16, cfg.faultsPerVcpu() - done);
                        vm.run(id, n, i -> base + (from + i) * PAGE, i -> true, 200);
                        vm.run(id, 16, i -> STATIC_GPA + ((id * 16L + i) % hugePages) * HUGE, i -> false, 200);
                    }
                    vcpuEnd[0] = Math.max(vcpuEnd[0], vm.sched.now());
                }));
            }
            SplittableRandom r = new SplittableRandom(seed);
            threads.add(vm.spawn("host", () -> {
                int total = cfg.outside() + cfg.inside();
                int insideLeft = cfg.inside();
                for (int k = 0; k < total; k++) {
                    vm.sched.sleep(cfg.periodNs());
                    boolean in = insideLeft > 0 && r.nextInt(total - k) < insideLeft;
                    if (in) {
                        insideLeft--;
                        vm.mm.madviseDontneed(dynamicHva + r.nextLong(dynamicBytes / PAGE) * PAGE, PAGE);
                    } else if (r.nextInt(8) == 0) {
                        long stack = vm.mm.mmap(1L << 20, Backing.ANON);
                        vm.mm.munmap(stack, 1L << 20);
                    } else {
                        vm.mm.madviseDontneed(arena + r.nextLong(64L << 20 >> 16) * (64L << 10), 64L << 10);
                    }
                }
            }));
            vm.joinAll(threads);
            long pf = -pf0;
            for (SimVcpu c : vm.vcpus) {
                pf += c.stats().pfTaken;
            }
            return new Result(policy, vm.kvm.notifier().callbacks() - callbacks0, vm.kvm.notifier().lockedCallbacks() - locked0,
                    vm.kvm.invalidate().seq() - seq0, pf, vm.kvm.mmuLock().waitNs() - wait0,
                    vm.kvm.mmuLock().contendedAcquisitions() - contended0, vcpuEnd[0] - t0, vm.oracle.violations().size());
        }
    }

    public static void main(String[] args) {
        BenchArgs a = new BenchArgs("seed-notifier", args, Set.of("seed", "vcpus", "outside", "inside"));
        Config d = Config.standard();
        Config cfg = d.with((int) a.number("vcpus", d.vcpus()), (int) a.number("outside", d.outside()), (int) a.number("inside", d.inside()));
        long seed = a.number("seed", 1);
        System.out.printf(Locale.ROOT, "# seed-notifier: %d vCPUs, %d GiB hugetlb-2M static RAM, %d notifications outside the memslots"
                + " and %d inside, one per %d ns; each vCPU faults %d fresh 4K pages meanwhile; seed %d%n", cfg.vcpus(),
                cfg.staticBytes() >> 30, cfg.outside(), cfg.inside(), cfg.periodNs(), cfg.faultsPerVcpu(), seed);
        System.out.println("| policy | notifier callbacks | took mmu_lock | mmu_invalidate_seq bumps | pf_taken | vCPUs done after | oracle |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Policy p : a.policies("legacy,-notifier_lock_elision", "legacy", "current")) {
            Result r = run(cfg, p, seed);
            System.out.printf(Locale.ROOT, "| `%s` | %d | %d | %d | %d | %.3f ms | %d |%n", p.name(), r.callbacks(), r.lockedCallbacks(),
                    r.seqBumps(), r.pfTaken(), r.vcpuNs() / 1e6, r.violations());
        }
    }
}
