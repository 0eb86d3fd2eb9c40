// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.oracle.Violation;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.SimThread;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.TdpDirtyLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Item (d), seed 003 ("Avoid unnecessary flush on eager page split": no TLB flush before installing the new
 * lower-level table when it maps the huge page identically). A VM mapped with 2M pages (hugetlb or THP) whose
 * vCPUs keep writing their memory while the VMM enables dirty logging (KVM_SET_USER_MEMORY_REGION adding
 * KVM_MEM_LOG_DIRTY_PAGES: kvm_mmu_slot_apply_flags() splits every huge page to 4K, write-protects, flushes once)
 * and harvests the log a few times; the vCPUs write for a fixed virtual window, so the cost of a flush (the IPI, the
 * exits, the TLB refills) and of a fault shows as writes not done in the same virtual window. Split modes:
 * <ul>
 *   <li>{@link Split#KVM}: whatever the policy does in the ioctl (with EAGER_PAGE_SPLIT: the TDP MMU's split,
 *       which never flushes; without it the write faults split, in place without a flush on {@code current},
 *       by zapping the huge SPTE with a flush on {@code legacy});</li>
 *   <li>{@link Split#FLUSH_EACH}: the split with an unconditional flush per huge page, what drop_large_spte() did
 *       before the seed patch: the benchmark splits each 2M page itself (kvm_tdp_mmu_try_split_huge_pages() under
 *       mmu_lock for read) and flushes after each, then enables logging under a policy without EAGER_PAGE_SPLIT;</li>
 *   <li>{@link Split#CHECKED}: the same split without any flush, and after each huge page the stale-translation
 *       oracle's checkpoint: every translation any vCPU's TLB holds must be what its root's SPTEs map now. The
 *       vCPUs run between the splits, so their TLBs hold translations of the pages being split.</li>
 * </ul>
 *
 * <p>Run with {@code ci/bench.sh seed-eager-split [--seed N] [--vcpus N] [--mib N] [--thp 0|1]}.
 */
public final class EagerSplitBench {
    static final int SLOT = 1;
    static final long GPA = 1L << 32;
    private static final long PAGE = 4096;
    private static final long HUGE = 2L << 20;

    /** How the huge pages get split. */
    public enum Split { KVM, FLUSH_EACH, CHECKED }

    /**
     * One run's shape.
     *
     * @param vcpus vCPUs, each writing its own part of the slot
     * @param bytes the slot, a multiple of 2 MiB
     * @param backing ANON_HUGETLB_2M or ANON_THP
     * @param harvests KVM_GET_DIRTY_LOG calls, the first {@code harvestStartNs} after enabling began (later if
     *     enabling is still running then), then one per {@code harvestPeriodNs}
     * @param windowNs the measured window, from the start of enabling until the vCPUs stop writing
     */
    public record Config(int vcpus, long bytes, Backing backing, int harvests, long harvestStartNs, long harvestPeriodNs, long windowNs) {
        public Config {
            if (vcpus < 1 || bytes <= 0 || bytes % (HUGE * vcpus) != 0) {
                throw new IllegalArgumentException("the slot must be a positive multiple of 2 MiB per vCPU, got " + bytes + " for " + vcpus + " vCPUs");
            }
            if (backing != Backing.ANON_HUGETLB_2M && backing != Backing.ANON_THP) {
                throw new IllegalArgumentException("backing must be 2M hugetlb or THP, got " + backing);
            }
            if (harvestStartNs + harvests * harvestPeriodNs > windowNs) {
                throw new IllegalArgumentException("the harvests must fit in the window");
            }
        }

        public static Config standard() {
            return new Config(8, 1L << 30, Backing.ANON_HUGETLB_2M, 10, 7_000_000, 500_000, 12_000_000);
        }

        public static Config small() {
            return new Config(4, 64L << 20, Backing.ANON_HUGETLB_2M, 4, 600_000, 200_000, 1_500_000);
        }

        Config with(int n, long b, Backing k) {
            long scale = Math.max(1, b / (1L << 30));
            return new Config(n, b, k, harvests, harvestStartNs * scale, harvestPeriodNs, windowNs * scale);
        }
    }

    /**
     * What one run measured.
     *
     * @param requests remote_tlb_flush_requests from the enable on
     * @param flushes remote_tlb_flush (requests that had to IPI a running vCPU)
     * @param vcpuTlbFlushes TLB flushes the vCPUs carried out (tlb_flush, summed)
     * @param pfTaken faults the vCPUs took from the enable on
     * @param enableNs virtual time of enabling dirty logging (the ioctl, plus the benchmark's own split)
     * @param windowNs the measured window: from the start of enabling to the last harvest
     * @param writes 4K writes the vCPUs completed in the window
     * @param pages4k pages_4k at the end
     * @param violations what the stale-translation oracle found
     */
    public record Result(String variant, long hugePages, long requests, long flushes, long vcpuTlbFlushes, long pfTaken, long enableNs,
                         long windowNs, long writes, long pages4k, List<Violation> violations) {
    }

    private EagerSplitBench() {
    }

    public static Result run(Config cfg, Policy policy, Split split, long seed) {
        Policy effective = split == Split.KVM ? policy : Policy.parse(policy.name() + ",-eager_page_split");
        try (SeedVm vm = new SeedVm(seed, SimConfig.defaults().withPolicy(effective).withOracle(true), cfg.vcpus())) {
            long hva = vm.mm.mmap(cfg.bytes(), cfg.backing());
            vm.setSlot(SLOT, 0, GPA, cfg.bytes(), hva);
            long part = cfg.bytes() / cfg.vcpus();
            // Warm-up: every vCPU maps its part with 2M SPTEs.
            List<SimThread> warm = new ArrayList<>();
            for (int v = 0; v < cfg.vcpus(); v++) {
                int id = v;
                warm.add(vm.spawn("warm" + id, () -> vm.run(id, (int) (part / HUGE), i -> GPA + id * part + i * HUGE, i -> true, 10)));
            }
            vm.joinAll(warm);
            long hugePages = vm.kvm.stats().pages[Spte.PG_LEVEL_2M];
            long requests0 = vm.kvm.stats().remoteTlbFlushRequests;
            long flushes0 = vm.kvm.stats().remoteTlbFlush;
            long tlb0 = 0;
            long pf0 = 0;
            for (SimVcpu c : vm.vcpus) {
                tlb0 += c.stats().tlbFlush;
                pf0 += c.stats().pfTaken;
            }
            boolean[] stop = new boolean[1];
            long[] writes = new long[1];
            List<SimThread> threads = new ArrayList<>();
            for (int v = 0; v < cfg.vcpus(); v++) {
                int id = v;
                SplittableRandom r = new SplittableRandom(seed * 31 + id);
                threads.add(vm.spawn("vcpu" + id, () -> {
                    // Until the window closes: runs of 32 writes to random pages of a 1 MiB working set (it fits in
                    // the TLB, as a guest's does), which moves on by one page per run through this vCPU's part.
                    long[] gpas = new long[32];
                    long pages = part / PAGE;
                    long hot = 0;
                    while (!stop[0]) {
                        for (int i = 0; i < 32; i++) {
                            gpas[i] = GPA + id * part + (hot + r.nextLong(256)) % pages * PAGE;
                        }
                        hot++;
                        vm.run(id, 32, i -> gpas[i], i -> true, 100);
                        writes[0] += 32;
                    }
                }));
            }
            // The VMM: a little later, dirty logging on, then the harvests.
            vm.sched.sleep(5_000);
            long e0 = vm.sched.now();
            long writesBefore0 = writes[0];
            if (split != Split.KVM) {
                splitEachHugePage(vm, split == Split.FLUSH_EACH);
            }
            vm.setSlot(SLOT, Memslot.KVM_MEM_LOG_DIRTY_PAGES, GPA, cfg.bytes(), hva);
            long enableNs = vm.sched.now() - e0;
            for (int h = 0; h < cfg.harvests(); h++) {
                sleepUntil(vm, e0 + cfg.harvestStartNs() + h * cfg.harvestPeriodNs());
                vm.dirtyLog.get(SLOT);
            }
            sleepUntil(vm, e0 + cfg.windowNs());
            long windowNs = vm.sched.now() - e0;
            long windowWrites = writes[0];
            stop[0] = true;
            vm.joinAll(threads);
            long tlb = -tlb0;
            long pf = -pf0;
            for (SimVcpu c : vm.vcpus) {
                tlb += c.stats().tlbFlush;
                pf += c.stats().pfTaken;
            }
            String variant = split == Split.KVM ? "`" + policy.name() + "`" : "`" + effective.name() + "`, " + (split == Split.FLUSH_EACH
                    ? "split with a flush per huge page" : "split without flushes, oracle checkpoint per huge page");
            return new Result(variant, hugePages, vm.kvm.stats().remoteTlbFlushRequests - requests0, vm.kvm.stats().remoteTlbFlush - flushes0, tlb, pf,
                    enableNs, windowNs, windowWrites - writesBefore0, vm.kvm.stats().pages[Spte.PG_LEVEL_4K], vm.oracle.violations());
        }
    }

    private static void sleepUntil(SeedVm vm, long t) {
        long wait = t - vm.sched.now();
        if (wait > 0) {
            vm.sched.sleep(wait);
        }
    }

    /**
     * kvm_tdp_mmu_try_split_huge_pages() one huge page at a time (mmu_lock for read), so the vCPUs run between
     * two splits; after each either a remote flush (the pre-patch behaviour) or the oracle's checkpoint.
     */
    static void splitEachHugePage(SeedVm vm, boolean flushEach) {
        Memslot slot = vm.kvm.memslots().byId(0, SLOT);
        for (long gfn = slot.baseGfn(); gfn < slot.baseGfn() + slot.npages(); gfn += Spte.pagesPerEntry(Spte.PG_LEVEL_2M)) {
            vm.kvm.mmuLock().readLock();
            long split = TdpDirtyLog.trySplitHugePages(vm.kvm.tdpMmu(), slot, gfn, gfn + Spte.pagesPerEntry(Spte.PG_LEVEL_2M), Spte.PG_LEVEL_4K, true);
            vm.kvm.mmuLock().readUnlock();
            if (split > 0 && flushEach) {
                vm.kvm.flushRemoteTlbsRange(FlushSite.DIRTY_LOG_ENABLE);
            } else if (split > 0) {
                vm.oracle.checkpoint("eager split of gfn 0x" + Long.toHexString(gfn) + " without a flush");
            }
            vm.sched.yieldPoint();
        }
    }

    public static void main(String[] args) {
        BenchArgs a = new BenchArgs("seed-eager-split", args, Set.of("seed", "vcpus", "mib", "thp"));
        Config d = Config.standard();
        Config cfg = d.with((int) a.number("vcpus", d.vcpus()), a.number("mib", d.bytes() >> 20) << 20,
                a.number("thp", 0) != 0 ? Backing.ANON_THP : Backing.ANON_HUGETLB_2M);
        long seed = a.number("seed", 1);
        System.out.printf(Locale.ROOT, "# seed-eager-split: %d vCPUs writing random 4K pages of %d MiB (%s) while dirty logging is enabled,"
                + " then %d KVM_GET_DIRTY_LOG; seed %d%n", cfg.vcpus(), cfg.bytes() >> 20, cfg.backing(), cfg.harvests(), seed);
        System.out.println("| variant | huge pages | remote_tlb_flush_requests | remote_tlb_flush | vCPU tlb_flush | pf_taken | enabling took | window | vCPU writes in the window | oracle violations |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        // --policy replaces the base the first four variants start from (default current)
        String base = a.policies("current").get(0).name();
        Object[][] variants = {{base, Split.KVM}, {base, Split.CHECKED}, {base, Split.FLUSH_EACH},
            {base + ",-eager_page_split", Split.KVM}, {"legacy", Split.KVM}};
        for (Object[] v : variants) {
            Result r = run(cfg, Policy.parse((String) v[0]), (Split) v[1], seed);
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %.3f ms | %.3f ms | %d | %d |%n", r.variant(), r.hugePages(), r.requests(),
                    r.flushes(), r.vcpuTlbFlushes(), r.pfTaken(), r.enableNs() / 1e6, r.windowNs() / 1e6, r.writes(), r.violations().size());
        }
    }
}
