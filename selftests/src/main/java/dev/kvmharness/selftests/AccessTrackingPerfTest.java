// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.HostPages;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.harness.TestUtil;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuArgs;
import dev.kvmharness.harness.memstress.VcpuIterations;
import dev.kvmharness.harness.memstress.VcpuThreads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Port of tools/testing/selftests/kvm/access_tracking_perf_test.c as of Linux 6.12: the performance of KVM's
 * access tracking, driven by idle page tracking. Each vCPU touches every page of its slice once per iteration;
 * between the iterations the vCPU threads mark their memory idle through /proc/self/pagemap and
 * /sys/kernel/mm/page_idle/bitmap, whose clear_young MMU notifier makes KVM clear the Accessed bits of its SPTEs
 * (kvm_mmu_notifier_clear_young -> kvm_tdp_mmu_age_gfn_range). Every phase prints its time, as in C.
 *
 * <p>Upstream changed the test after 6.12 (the 2025 cycles): a {@code -w} option and
 * {@code access_tracking_unreliable()} turned the "too many pages still idle" assertion into a warning where the
 * test runs nested or NUMA balancing is on (6.12 asserts unless the CPU has X86_FEATURE_HYPERVISOR), and MGLRU
 * aging through the lru_gen debugfs file replaced page_idle where lru_gen is enabled, the phase line becoming
 * "Mark memory idle (page_idle)". This port follows 6.12 exactly; on the development host, which has neither
 * page_idle nor lru_gen, both versions skip.
 *
 * <p>Where the C test shares globals between its threads (iteration, iteration_work,
 * vcpu_last_completed_iteration, memstress_args.stop_vcpus), this port keeps them in {@link Iterations}; the
 * handshake itself is memstress's {@link VcpuIterations}, shared with dirty_log_perf_test: real spins on
 * /dev/kvm, waits in virtual time on the simulator.
 */
@Command(name = "access_tracking_perf_test", sortOptions = false,
        customSynopsis = "access_tracking_perf_test [-h] [-m mode] [-b vcpu_bytes] [-v vcpus] [-o]  [-s mem_type]",
        description = "KVM access tracking performance test: vCPUs touch their memory before and after it is marked idle "
                + "through /sys/kernel/mm/page_idle/bitmap, which ages KVM's SPTEs (clear_young).")
public final class AccessTrackingPerfTest implements Callable<Integer>, Port {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Display this help message.")
    boolean help;

    @Option(names = "-m", paramLabel = "mode", description = "Guest mode ID to test (x86-64: 9 = "
            + "PA-bits:ANY, VA-bits:48,  4K pages). May be used multiple times.")
    List<String> modes = new ArrayList<>();

    @Option(names = "-b", paramLabel = "vcpu_bytes", description = "specify the size of the memory region which should be "
            + "dirtied by each vCPU. e.g. 10M or 3G. (default: 1G)")
    String memory;

    @Option(names = "-v", paramLabel = "vcpus", description = "specify the number of vCPUs to run.")
    String vcpus;

    @Option(names = "-o", description = "Overlap guest memory accesses instead of partitioning them into a separate "
            + "region of memory for each vCPU.")
    boolean overlap;

    @Option(names = "-s", paramLabel = "mem_type", description = "Type of memory that should be used to back the guest "
            + "data region (default: anonymous). Available: anonymous, anonymous_thp, anonymous_hugetlb, "
            + "anonymous_hugetlb_2mb, anonymous_hugetlb_1gb, shmem, shared_hugetlb")
    String backing;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    private Params params;

    /** getpagesize() on x86-64. */
    static final long HOST_PAGE_SIZE = 4096;

    /** What each phase's line is called, in the order run_test() runs them; also the --json timing keys. */
    enum Phase {
        POPULATE("Populating memory", "populate_ns"),
        WRITE_POPULATED("Writing to populated memory", "write_populated_ns"),
        READ_POPULATED("Reading from populated memory", "read_populated_ns"),
        MARK_IDLE_1("Mark memory idle", "mark_idle_1_ns"),
        WRITE_IDLE("Writing to idle memory", "write_idle_ns"),
        MARK_IDLE_2("Mark memory idle", "mark_idle_2_ns"),
        READ_IDLE("Reading from idle memory", "read_idle_ns");

        final String description;
        final String key;

        Phase(String description, String key) {
            this.description = description;
            this.key = key;
        }
    }

    /** struct test_params plus the -m modes and -o, resolved from the options. */
    record Params(List<GuestMode> modes, BackingSource src, long vcpuMemoryBytes, int nrVcpus, boolean overlap) {
    }

    /** What one run_test() measured: the time of each phase, the idle counts of each marking, the stats. */
    record Outcome(Map<Phase, Long> phaseNs, long[] stillIdle, long noPfn, long pagesPerVcpu, int warnings,
                   Stats.Delta stats, Map<String, Object> backendReport) {
    }

    @Override
    public String name() {
        return "access_tracking_perf_test";
    }

    @Override
    public void validate() {
        params = parse();
    }

    /** main()'s option loop, "hm:b:v:os:", with memstress_create_vm()'s size checks up front as usage errors. */
    Params parse() {
        List<GuestMode> m = GuestMode.fromCmdline(modes);
        long size = memory == null ? Memstress.DEFAULT_PER_VCPU_MEM_SIZE : parseMemory(memory, m);
        int n = vcpus == null ? 1 : TestUtil.atoiPositive("Number of vCPUs", vcpus);
        BackingSource src = backing == null ? BackingSource.ANONYMOUS : BackingSource.parse(backing);
        if (size > Long.MAX_VALUE / n) {
            throw new IllegalArgumentException("-v " + n + " x -b " + Usage.size(size) + " overflows 64 bits");
        }
        if (src.isHugetlb() && (n * size) % src.pageSize() != 0) {
            // One memslot of every vCPU's memory, mmap()ed in whole huge pages.
            throw new IllegalArgumentException((n == 1 ? "" : "-v " + n + " x ") + "-b " + Usage.size(size)
                    + " is not a multiple of the " + Usage.size(src.pageSize()) + " huge page size of -s " + src.cliName());
        }
        return new Params(m, src, size, n, overlap);
    }

    /** -b: parse_size(), then memstress_create_vm()'s asserts: whole guest (and host) pages, at least one. */
    private static long parseMemory(String arg, List<GuestMode> modes) {
        long size;
        try {
            size = TestUtil.parseSize(arg);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-b '" + arg + "': " + e.getMessage() + " (expected a size such as 4K, 10M or 3G)", e);
        }
        long page = HOST_PAGE_SIZE;
        for (GuestMode m : modes) {
            page = Math.max(page, m.pageSize());
        }
        if (size <= 0 || size % page != 0) {
            throw new IllegalArgumentException("-b " + arg + " is not a positive multiple of the " + Usage.size(page)
                    + " guest page size: each vCPU's memory is whole pages, at least one");
        }
        return size;
    }

    /** What memstress_create_vm() asserts against KVM_CAP_MAX_VCPUS and the guest's address space, as usage errors. */
    @Override
    public void validate(Backend backend) {
        MemstressLimits.check(backend, params.nrVcpus(), params.vcpuMemoryBytes(), params.modes());
    }

    @Override
    public Integer call() {
        return TestMain.run(this, common, spec.commandLine());
    }

    /** main() after option parsing: page_idle must be there, then run_test() for each guest mode. */
    @Override
    public Result execute(Backend backend, long seed) {
        Params p = params;
        if (backend.pageIdleUnavailableReason().isPresent()) {
            // __TEST_REQUIRE(page_idle_fd >= 0, "CONFIG_IDLE_PAGE_TRACKING is not enabled")
            throw new TestSkipped("- CONFIG_IDLE_PAGE_TRACKING is not enabled");
        }
        Outcome last = null;
        for (GuestMode mode : p.modes()) {
            last = runTest(backend, seed, mode, p, Duration.ofSeconds(common.runTimeoutSeconds));
        }
        Map<String, Object> timings = new LinkedHashMap<>();
        for (Phase phase : Phase.values()) {
            timings.put(phase.key, last.phaseNs().get(phase));
        }
        Map<String, Object> rates = new LinkedHashMap<>();
        rates.put("pages_per_vcpu", last.pagesPerVcpu());
        rates.put("still_idle_pages_mark_1", last.stillIdle()[0]);
        rates.put("still_idle_pages_mark_2", last.stillIdle()[1]);
        rates.put("no_pfn_pages", last.noPfn());
        rates.put("too_many_idle_warnings", last.warnings());
        return new Result(timings, rates, Map.of(), last.stats(), last.backendReport());
    }

    // ---------------------------------------------------------------- the threads' shared state

    /** iteration_work: what the vCPU threads do in an iteration. */
    enum Work {
        /** ITERATION_ACCESS_MEMORY: run the vCPU to access all its memory. */
        ACCESS_MEMORY,
        /** ITERATION_MARK_IDLE: mark the vCPU's memory idle in page_idle. */
        MARK_IDLE
    }

    /**
     * The C test's globals shared by its threads: iteration, vcpu_last_completed_iteration[] and
     * memstress_args.stop_vcpus are memstress's iteration handshake ({@link VcpuIterations}, whose quit is
     * stop_vcpus); iteration_work and the idle counts are this test's. A failure in a vCPU thread (which in C
     * ends the process) stops the main thread's wait.
     */
    static final class Iterations {
        final VcpuIterations iters;
        volatile Work work = Work.ACCESS_MEMORY;
        final boolean overlap;
        final boolean hypervisor;
        /** still_idle of each marking (summed over vCPUs), no_pfn over all, WARNING lines printed. */
        final AtomicLong[] stillIdle = {new AtomicLong(), new AtomicLong()};
        final AtomicLong noPfn = new AtomicLong();
        final AtomicLong warnings = new AtomicLong();
        volatile int marking;

        Iterations(Host host, int nrVcpus, boolean overlap, boolean hypervisor) {
            this.iters = new VcpuIterations(host, nrVcpus);
            this.overlap = overlap;
            this.hypervisor = hypervisor;
        }
    }

    // ---------------------------------------------------------------- run_test()

    /** run_test(). */
    static Outcome runTest(Backend backend, long seed, GuestMode mode, Params p, Duration runTimeout) {
        Memstress.Options opts = new Memstress.Options(100, false, seed, runTimeout);
        try (Memstress ms = Memstress.createVm(backend, mode, p.nrVcpus(), p.vcpuMemoryBytes(), 1, p.src(), !p.overlap(),
                opts)) {
            Vm vm = ms.vm();
            Host host = vm.host();
            Iterations it = new Iterations(host, p.nrVcpus(), p.overlap(), thisCpuHasHypervisor(backend));
            Stats before = vm.stats();
            // memstress_start_vcpu_threads()
            VcpuThreads threads = VcpuThreads.start(host, ms.vcpuArgs(), null, it.iters.worker(a -> vcpuThreadMain(ms, it, a)));
            Map<Phase, Long> ns = new LinkedHashMap<>();
            try {
                GuestLog.info("\n");
                ns.put(Phase.POPULATE, accessMemory(ms, it, true, Phase.POPULATE));

                // As a control, read and write to the populated memory first.
                ns.put(Phase.WRITE_POPULATED, accessMemory(ms, it, true, Phase.WRITE_POPULATED));
                ns.put(Phase.READ_POPULATED, accessMemory(ms, it, false, Phase.READ_POPULATED));

                // Repeat on memory that has been marked as idle.
                ns.put(Phase.MARK_IDLE_1, markMemoryIdle(ms, it, Phase.MARK_IDLE_1));
                ns.put(Phase.WRITE_IDLE, accessMemory(ms, it, true, Phase.WRITE_IDLE));
                ns.put(Phase.MARK_IDLE_2, markMemoryIdle(ms, it, Phase.MARK_IDLE_2));
                ns.put(Phase.READ_IDLE, accessMemory(ms, it, false, Phase.READ_IDLE));
            } finally {
                // memstress_join_vcpu_threads(): stop_vcpus, then join (which rethrows a vCPU thread's failure).
                it.iters.quit();
                threads.join();
            }
            Stats.Delta delta = vm.stats().delta(before);
            long[] stillIdle = {it.stillIdle[0].get(), it.stillIdle[1].get()};
            return new Outcome(ns, stillIdle, it.noPfn.get(), ms.vcpuArgs(0).pages(), (int) it.warnings.get(), delta,
                    vm.backendReport());
        }
    }

    /** access_memory(): memstress_set_write_percent(), then an ITERATION_ACCESS_MEMORY iteration. */
    static long accessMemory(Memstress ms, Iterations it, boolean write, Phase phase) {
        ms.setWritePercent(write ? 100 : 0);
        it.work = Work.ACCESS_MEMORY;
        return runIteration(ms, it, phase.description);
    }

    /**
     * mark_memory_idle(). Even though this parallelizes the work across vCPUs, it is slow: page_idle makes the test
     * mark one pfn at a time, and the clear_young notifier serializes on KVM's mmu_lock.
     */
    static long markMemoryIdle(Memstress ms, Iterations it, Phase phase) {
        GuestLog.debug("Marking VM memory idle (slow)...\n");
        it.marking = phase == Phase.MARK_IDLE_1 ? 0 : 1;
        it.work = Work.MARK_IDLE;
        return runIteration(ms, it, phase.description);
    }

    /** run_iteration(): kicks the vCPU threads off by incrementing iteration, waits for all, prints the time. */
    static long runIteration(Memstress ms, Iterations it, String description) {
        Host host = ms.vm().host();
        int nextIteration = it.iters.next();
        long start = host.nanoTime();
        // spin_wait_for_vcpu() for each vCPU in turn; a vCPU thread that failed ends the wait with its failure
        it.iters.awaitCompleted(nextIteration);
        long elapsed = host.nanoTime() - start;
        GuestLog.info("%s", phaseLine(description, elapsed));
        return elapsed;
    }

    /** run_iteration()'s line: pr_info("%-30s: %ld.%09lds\n", description, tv_sec, tv_nsec). */
    static String phaseLine(String description, long ns) {
        return String.format(Locale.ROOT, "%-30s: %d.%09ds\n", description, ns / 1_000_000_000L, ns % 1_000_000_000L);
    }

    // ---------------------------------------------------------------- the vCPU threads

    /** spin_wait_for_next_iteration(): false once stop_vcpus is set. */
    static boolean spinWaitForNextIteration(Iterations it, int[] currentIteration) {
        it.iters.awaitNext(currentIteration[0]);
        if (it.iters.quitting()) {
            return false;
        }
        currentIteration[0] = it.iters.iteration();
        return true;
    }

    /** vcpu_thread_main(). */
    static void vcpuThreadMain(Memstress ms, Iterations it, VcpuArgs args) {
        int[] currentIteration = {0};
        while (spinWaitForNextIteration(it, currentIteration)) {
            if (it.work == Work.ACCESS_MEMORY) {
                args.vcpu().run();
                assertUcall(args, Ucall.Kind.SYNC);
            } else {
                markVcpuMemoryIdle(ms, it, args);
            }
            it.iters.completed(args.vcpuIdx(), currentIteration[0]);
        }
    }

    /** assert_ucall(): the guest must stop at the ucall expected (GUEST_SYNC after each pass). */
    static void assertUcall(VcpuArgs args, Ucall.Kind expected) {
        Ucall uc = args.vcpu().ucall();
        if (uc.kind() == Ucall.Kind.ABORT) {
            throw TestAssertionFailure.guestAssert(uc);
        }
        TestAssertionFailure.check(uc.kind() == expected, "expected_ucall == actual_ucall",
                "Guest exited unexpectedly (expected ucall %d, got %d)", ucallNumber(expected), ucallNumber(uc.kind()));
    }

    /** The C enum's value of a ucall kind (UCALL_NONE, UCALL_SYNC, UCALL_ABORT, UCALL_PRINTF, UCALL_DONE). */
    static int ucallNumber(Ucall.Kind kind) {
        switch (kind) {
            case SYNC:
                return 1;
            case ABORT:
                return 2;
            case PRINTF:
                return 3;
            case DONE:
                return 4;
            default:
                return 0;
        }
    }

    /** mark_vcpu_memory_idle(). */
    static void markVcpuMemoryIdle(Memstress ms, Iterations it, VcpuArgs args) {
        int vcpuIdx = args.vcpuIdx();
        long pages = args.pages();
        // If vCPUs are using an overlapping region, let vCPU 0 mark it idle.
        if (it.overlap && vcpuIdx != 0) {
            return;
        }
        Vm vm = ms.vm();
        HostPages host = vm.hostPages();
        long stillIdle = 0;
        long noPfn = 0;
        for (long page = 0; page < pages; page++) {
            long gva = args.gva() + page * ms.guestPageSize();
            long pfn = lookupPfn(host, vm, gva);
            if (pfn == 0) {
                noPfn++;
                continue;
            }
            if (host.isIdle(pfn)) {
                stillIdle++;
                continue;
            }
            host.markIdle(pfn);
        }
        it.stillIdle[it.marking].addAndGet(stillIdle);
        it.noPfn.addAndGet(noPfn);

        // Assumption: less than 1% of pages are going to be swapped out from under us during this test.
        TestAssertionFailure.check(noPfn < pages / 100, "no_pfn < pages / 100", "vCPU %d: No PFN for %d out of %d pages.",
                vcpuIdx, noPfn, pages);

        // At least 90% of memory must have been marked idle: the rest may not be because the pages have not yet
        // reached an LRU list or the translations are still cached in the TLB. Nested, where the TLB is effectively
        // unlimited and KVM does not flush it when aging SPTEs, that is only a warning.
        if (stillIdle >= pages / 10) {
            TestAssertionFailure.check(it.hypervisor, "this_cpu_has(X86_FEATURE_HYPERVISOR)",
                    "vCPU%d: Too many pages still idle (%d out of %d)", vcpuIdx, stillIdle, pages);
            GuestLog.info("WARNING: vCPU%d: Too many pages still idle (%d out of %d), this will affect performance results.\n",
                    vcpuIdx, stillIdle, pages);
            it.warnings.incrementAndGet();
        }
    }

    /** lookup_pfn(): the PFN behind gva through addr_gva2hva() and /proc/self/pagemap, 0 if not present. */
    static long lookupPfn(HostPages host, Vm vm, long gva) {
        long hva = vm.gva2hva(gva);
        long entry = host.pagemapEntry(hva);
        if ((entry & HostPages.PAGEMAP_PRESENT) == 0) {
            return 0;
        }
        long pfn = entry & HostPages.PAGEMAP_PFN_MASK;
        if (pfn == 0) {
            throw new TestSkipped("- Looking up PFNs requires CAP_SYS_ADMIN");
        }
        return pfn;
    }

    /**
     * this_cpu_has(X86_FEATURE_HYPERVISOR): CPUID.1:ECX bit 31 of the CPU the test runs on, the "hypervisor" flag of
     * /proc/cpuinfo on /dev/kvm. The simulator models KVM on bare metal: its host CPU has no such bit, so too many
     * still-idle pages fail there.
     */
    static boolean thisCpuHasHypervisor(Backend backend) {
        if (!"kvm".equals(backend.name())) {
            return false;
        }
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> List.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).contains("hypervisor")).orElse(false);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public Map<String, Object> options() {
        Params p = params;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("guest_modes", p.modes().stream().map(GuestMode::name).toList());
        m.put("vcpu_memory_bytes", p.vcpuMemoryBytes());
        m.put("vcpus", p.nrVcpus());
        m.put("overlap_memory_access", p.overlap());
        m.put("backing_src", p.src().cliName());
        return m;
    }
}
