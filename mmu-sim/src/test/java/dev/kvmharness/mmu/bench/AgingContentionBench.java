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

/**
 * access_tracking_perf_test's two phases with the vCPUs faulting meanwhile, which the C test never does (it marks
 * memory idle while the vCPUs wait): what 6.15's lockless aging changes when reclaim or a working-set estimator ages
 * a VM whose vCPUs are still populating memory. Each vCPU owns a part of one slot of 4K pages; the first half is
 * populated before the window. In the window each vCPU faults in its second half (new pages: EPT violations under
 * mmu_lock for read) and re-reads its first half, while the VMM marks the first halves idle through
 * /sys/kernel/mm/page_idle (one clear_young per page, as the C test's page_idle writes make) and then through
 * clear_flush_young over the whole slot (what reclaim's aging calls). Up to 6.14 each of those callbacks takes
 * mmu_lock for write, so the faults queue behind it; from 6.15 none does.
 *
 * <p>Run with {@code ci/bench.sh newest-aging [--seed N] [--vcpus N] [--mib N] [--policy SPEC]...}.
 */
public final class AgingContentionBench {
    static final int SLOT = 1;
    static final long GPA = 1L << 32;
    private static final long PAGE = 4096;

    /**
     * One run's shape.
     *
     * @param vcpus vCPUs, each with {@code mibPerVcpu} MiB of the slot
     * @param mibPerVcpu a multiple of 2
     */
    public record Config(int vcpus, long mibPerVcpu) {
        public Config {
            if (vcpus < 1 || mibPerVcpu < 2 || mibPerVcpu % 2 != 0) {
                throw new IllegalArgumentException("need at least one vCPU and an even number of MiB per vCPU, got " + vcpus + " x " + mibPerVcpu);
            }
        }

        public static Config standard() {
            return new Config(16, 64);
        }
    }

    /**
     * What one run measured, in virtual time.
     *
     * @param idleMarkNs the page_idle pass over every vCPU's first half
     * @param ageNs the clear_flush_young pass over the slot
     * @param vcpuNs the vCPUs' window: from its start until the last vCPU finished faulting and re-reading
     * @param faults EPT violations the vCPUs took in the window
     * @param mmuLockWaitNs mmu_lock wait summed over every acquisition in the window
     * @param lockedCallbacks notifier callbacks in the window that took mmu_lock
     * @param flushes remote_tlb_flush_requests in the window
     * @param staleAccessed reads through a TLB entry whose SPTE aging had made old (the Accessed bit missed them)
     */
    public record Result(long idleMarkNs, long ageNs, long vcpuNs, long faults, long mmuLockWaitNs, long lockedCallbacks, long flushes,
                         long staleAccessed, int violations) {
    }

    private AgingContentionBench() {
    }

    public static Result run(Config cfg, Policy policy, long seed) {
        try (SeedVm vm = new SeedVm(seed, SimConfig.defaults().withPolicy(policy).withOracle(true), cfg.vcpus())) {
            long part = cfg.mibPerVcpu() << 20;
            long bytes = part * cfg.vcpus();
            long hva = vm.mm.mmap(bytes, Backing.ANON);
            vm.setSlot(SLOT, 0, GPA, bytes, hva);
            int half = (int) (part / 2 / PAGE);
            List<SimThread> warm = new ArrayList<>();
            for (int v = 0; v < cfg.vcpus(); v++) {
                int id = v;
                warm.add(vm.spawn("populate" + id, () -> vm.run(id, half, i -> GPA + id * part + i * PAGE, i -> true, 10)));
            }
            vm.joinAll(warm);
            long t0 = vm.sched.now();
            long faults0 = faults(vm);
            long wait0 = vm.kvm.mmuLock().waitNs();
            long locked0 = vm.kvm.notifier().lockedCallbacks();
            long flushes0 = vm.kvm.stats().remoteTlbFlushRequests;
            long stale0 = vm.oracle.staleAccessedUses();
            long[] vcpuEnd = new long[1];
            List<SimThread> vcpus = new ArrayList<>();
            for (int v = 0; v < cfg.vcpus(); v++) {
                int id = v;
                vcpus.add(vm.spawn("vcpu" + id, () -> {
                    // Runs of 64 accesses: new pages of the second half, then the same number re-read from the first.
                    for (int i = 0; i < half; i += 64) {
                        int base = i;
                        vm.run(id, 64, k -> GPA + id * part + (long) (half + base + k) * PAGE, k -> true, 10);
                        vm.run(id, 64, k -> GPA + id * part + (long) (base + k) * PAGE, k -> false, 10);
                    }
                    vcpuEnd[0] = Math.max(vcpuEnd[0], vm.sched.now());
                }));
            }
            // The VMM: page_idle over every first half, page by page, then one clear_flush_young pass.
            for (int v = 0; v < cfg.vcpus(); v++) {
                for (int i = 0; i < half; i++) {
                    vm.mm.clearYoungRange(hva + v * part + i * PAGE, hva + v * part + (i + 1) * PAGE);
                }
            }
            long idleMarkNs = vm.sched.now() - t0;
            long a0 = vm.sched.now();
            vm.mm.ageRange(hva, hva + bytes);
            long ageNs = vm.sched.now() - a0;
            vm.joinAll(vcpus);
            return new Result(idleMarkNs, ageNs, vcpuEnd[0] - t0, faults(vm) - faults0, vm.kvm.mmuLock().waitNs() - wait0,
                    vm.kvm.notifier().lockedCallbacks() - locked0, vm.kvm.stats().remoteTlbFlushRequests - flushes0,
                    vm.oracle.staleAccessedUses() - stale0, vm.oracle.violations().size());
        }
    }

    private static long faults(SeedVm vm) {
        long n = 0;
        for (SimVcpu c : vm.vcpus) {
            n += c.stats().pfTaken;
        }
        return n;
    }

    public static void main(String[] args) {
        BenchArgs a = new BenchArgs("newest-aging", args, Set.of("seed", "vcpus", "mib"));
        Config d = Config.standard();
        Config cfg = new Config((int) a.number("vcpus", d.vcpus()), a.number("mib", d.mibPerVcpu()));
        long seed = a.number("seed", 1);
        System.out.printf(Locale.ROOT, "# newest-aging: %d vCPUs x %d MiB of 4K pages; each faults in its second half and re-reads its"
                + " first while the VMM marks the first halves idle (page_idle) and ages the slot (clear_flush_young); seed %d%n",
                cfg.vcpus(), cfg.mibPerVcpu(), seed);
        System.out.println("| policy | idle marking | clear_flush_young | vCPUs done after | EPT violations | mmu_lock wait (sum)"
                + " | callbacks that took mmu_lock | flush requests | accesses Accessed missed | oracle |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (Policy p : a.policies("6.12", "6.13", "6.15")) {
            Result r = run(cfg, p, seed);
            System.out.printf(Locale.ROOT, "| `%s` | %.3f ms | %.3f ms | %.3f ms | %d | %.3f ms | %d | %d | %d | %d |%n", p.name(),
                    r.idleMarkNs() / 1e6, r.ageNs() / 1e6, r.vcpuNs() / 1e6, r.faults(), r.mmuLockWaitNs() / 1e6, r.lockedCallbacks(),
                    r.flushes(), r.staleAccessed(), r.violations());
        }
    }
}
