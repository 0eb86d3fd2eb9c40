// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.TestUtil;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.UffdResolveException;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuArgs;
import dev.kvmharness.harness.memstress.VcpuThreads;
import dev.kvmharness.sys.Sys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Port of tools/testing/selftests/kvm/demand_paging_test.c: every vCPU touches each page of its slice once
 * while userfaultfd (optionally) supplies the pages on demand; prints the guest execution time and the
 * demand paging rate.
 */
@Command(name = "demand_paging_test", sortOptions = false,
        description = "KVM demand paging test: vCPUs fault in their memory, optionally through userfaultfd.")
public final class DemandPagingTest implements Callable<Integer>, Port {

    @Option(names = "-m", paramLabel = "vm_mode", description = "Guest mode ID to test (x86-64: 9 = "
            + "PA-bits:ANY, VA-bits:48,  4K pages). May be used multiple times.")
    List<String> modes = new ArrayList<>();

    @Option(names = "-u", paramLabel = "uffd_mode",
            description = "Use userfaultfd to handle vCPU page faults. Mode is a UFFD registration mode: 'MISSING' or 'MINOR'.")
    String uffdMode;

    @Option(names = "-a", description = "Use a single userfaultfd for all of guest memory, instead of creating one for each"
            + " region paged by a unique vCPU. Set implicitly with -o, and no effect without -u.")
    boolean singleUffd;

    @Option(names = "-d", paramLabel = "uffd_delay_usec",
            description = "Add a delay in usec to the User Fault FD handler to simulate demand paging overheads. Ignored without -u.")
    String uffdDelay;

    @Option(names = "-r", paramLabel = "readers_per_uffd", description = "Set the number of reader threads per uffd.")
    String readersPerUffd;

    @Option(names = "-b", paramLabel = "memory",
            description = "Size of the memory region which should be demand paged by each vCPU, e.g. 10M or 3G. Default: 1G")
    String memory;

    @Option(names = "-s", paramLabel = "type",
            description = "Type of memory that should be used to back the guest data region (default: anonymous). "
                    + "Available: anonymous, anonymous_thp, anonymous_hugetlb, anonymous_hugetlb_2mb, anonymous_hugetlb_1gb, shmem, shared_hugetlb")
    String backing;

    @Option(names = "-v", paramLabel = "vcpus", description = "Number of vCPUs to run.")
    String vcpus;

    @Option(names = "-c", paramLabel = "cpu_list", description = "Pin vCPUs to pCPUs: one pCPU per vCPU, "
            + "plus an optional extra entry to pin the main task, e.g. -c 22,23,24,50.")
    String cpuList;

    @Option(names = "-o", description = "Overlap guest memory accesses instead of partitioning them into a separate "
            + "region of memory for each vCPU.")
    boolean overlap;

    @Option(names = "--touch-latency", description = "Not in C: the guest reads the TSC (lfence; rdtsc) around its first "
            + "access to each page and the run reports the distribution (latencies.first_touch_ns in --json, --stats). "
            + "Off, the guest and the VM are exactly the C test's.")
    boolean touchLatency;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    private Params params;

    /** getpagesize() on x86-64, which memstress also requires -b to be a multiple of. */
    static final long HOST_PAGE_SIZE = 4096;

    /** What guest_data_prototype is filled with: every demand-paged page holds it. */
    static final byte GUEST_DATA_FILL = (byte) 0xAB;

    /** struct test_params, resolved from the options. */
    record Params(List<GuestMode> modes, DemandPaging.Mode uffdMode, boolean singleUffd, long uffdDelayUs,
                  int readersPerUffd, long guestPercpuMemSize, BackingSource src, int nrVcpus,
                  TestUtil.VcpuPinning pinning, boolean partition, boolean touchLatency) {
    }

    /** What one run measured (per guest mode). */
    record Outcome(GuestMode mode, long totalNs, double perVcpuRate, double overallRate, long pagesPerVcpu,
                   long uffdPages, Histogram pageInLatencyNs, Histogram firstTouchNs, long tscKhz,
                   Stats.Delta stats, Map<String, Object> backendReport) {
    }

    @Override
    public String name() {
        return "demand_paging_test";
    }

    @Override
    public void validate() {
        params = parse();
    }

    /** Validates and resolves the options the way main() does; bad values are usage errors. */
    Params parse() {
        List<GuestMode> m = GuestMode.fromCmdline(modes);
        DemandPaging.Mode mode = null;
        if (uffdMode != null) {
            if (uffdMode.equals("MISSING")) {
                mode = DemandPaging.Mode.MISSING;
            } else if (uffdMode.equals("MINOR")) {
                mode = DemandPaging.Mode.MINOR;
            } else {
                throw new IllegalArgumentException("UFFD mode must be 'MISSING' or 'MINOR'.");
            }
        }
        long delay = uffdDelay == null ? 0 : parseDelay(uffdDelay);
        int readers = 1;
        if (readersPerUffd != null) {
            readers = TestUtil.atoiParanoid(readersPerUffd);
            if (readers < 1) {
                throw new IllegalArgumentException("Invalid number of readers per uffd " + readers + ": must be >=1");
            }
        }
        long size = memory == null ? Memstress.DEFAULT_PER_VCPU_MEM_SIZE : parseMemory(memory, m);
        BackingSource src = backing == null ? BackingSource.ANONYMOUS : BackingSource.parse(backing);
        int n = 1;
        if (vcpus != null) {
            n = TestUtil.atoiPositive("Number of vCPUs", vcpus);
        }
        boolean single = singleUffd || overlap;
        if (size > Long.MAX_VALUE / n) {
            throw new IllegalArgumentException("-v " + n + " x -b " + Usage.size(size) + " overflows 64 bits");
        }
        if (src.isHugetlb()) {
            // The region is mmap()ed, and registered with each userfaultfd, in whole huge pages: the kernel rejects
            // (and the simulator's mm with it) a length that is not a multiple of the huge page size.
            long piece = mode != null && !single ? size : n * size;
            if (piece % src.pageSize() != 0) {
                throw new IllegalArgumentException((piece == size ? "" : "-v " + n + " x ") + "-b " + Usage.size(size)
                        + " is not a multiple of the " + Usage.size(src.pageSize()) + " huge page size of -s " + src.cliName());
            }
        }
        TestUtil.VcpuPinning pin = cpuList == null ? null : TestUtil.parseVcpuPinning(cpuList, n);
        return new Params(m, mode, single, delay, readers, size, src, n, pin, !overlap, touchLatency);
    }

    /**
     * -b: parse_size(), then what memstress_create_vm() asserts: each vCPU's memory is whole guest (and host)
     * pages, at least one. The C test finds out after creating the VM; here it is a usage error.
     */
    static long parseMemory(String arg, List<GuestMode> modes) {
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

    private static long parseDelay(String s) {
        try {
            long d = Long.decode(s.trim());
            if (d < 0) {
                throw new IllegalArgumentException("A negative UFFD delay is not supported.");
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid UFFD delay '" + s + "'");
        }
    }

    /**
     * What main() asserts against KVM_CAP_MAX_VCPUS while parsing -v, and memstress_create_vm() against the
     * guest's address space, as usage errors: the limits are the backend's.
     */
    @Override
    public void validate(Backend backend) {
        MemstressLimits.check(backend, params.nrVcpus(), params.guestPercpuMemSize(), params.modes());
    }

    @Override
    public Integer call() {
        return TestMain.run(this, common, spec.commandLine());
    }

    /** main() after option parsing: checks, then run_test() for each guest mode. */
    @Override
    public Result execute(Backend backend, long seed) {
        Params p = params;
        int maxVcpus = backend.caps().maxVcpus();
        TestAssertionFailure.check(p.nrVcpus() <= maxVcpus, "nr_vcpus <= max_vcpus",
                "Invalid number of vcpus, must be between 1 and %d", maxVcpus);
        if (p.uffdMode() == DemandPaging.Mode.MINOR && !p.src().isShared()) {
            throw TestAssertionFailure.fail("userfaultfd MINOR mode requires shared memory; pick a different -s");
        }
        if (p.pinning() != null && p.pinning().mainPcpu() != null) {
            Sys.pinToCpu(0, p.pinning().mainPcpu());
        }
        Outcome last = null;
        for (GuestMode mode : p.modes()) {
            last = runTest(backend, seed, mode, p, Duration.ofSeconds(common.runTimeoutSeconds));
        }
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("total_guest_execution_ns", last.totalNs());
        Map<String, Object> rates = new LinkedHashMap<>();
        rates.put("per_vcpu_pgs_per_sec", last.perVcpuRate());
        rates.put("overall_pgs_per_sec", last.overallRate());
        rates.put("pages_per_vcpu", last.pagesPerVcpu());
        rates.put("uffd_pages_handled", last.uffdPages());
        Map<String, Object> latencies = new LinkedHashMap<>();
        if (last.uffdPages() > 0) {
            latencies.put("uffd_page_in_ns", LatencySummary.of(last.pageInLatencyNs()));
        }
        if (last.firstTouchNs() != null) {
            Map<String, Object> ft = LatencySummary.of(last.firstTouchNs());
            ft.put("tsc_khz", last.tscKhz());
            latencies.put("first_touch_ns", ft);
        }
        return new Result(timings, rates, latencies, last.stats(), last.backendReport());
    }

    /** run_test(). */
    static Outcome runTest(Backend backend, long seed, GuestMode mode, Params p, Duration runTimeout) {
        Memstress.Options opts = new Memstress.Options(100, false, seed, runTimeout).withTimeAccesses(p.touchLatency());
        try (Memstress ms = Memstress.createVm(backend, mode, p.nrVcpus(), p.guestPercpuMemSize(), 1, p.src(),
                p.partition(), opts)) {
            long demandPagingSize = p.src().pageSize();

            int numUffds = 0;
            if (p.uffdMode() == DemandPaging.Mode.MINOR) {
                numUffds = p.singleUffd() ? 1 : p.nrVcpus();
                for (int i = 0; i < numUffds; i++) {
                    VcpuArgs a = ms.vcpuArgs(i);
                    // prefault_mem(): populate the page cache through the alias so the guest takes minor faults.
                    ms.vm().fillAlias(a.gpa(), a.pages() * ms.guestPageSize(), GUEST_DATA_FILL);
                }
            }

            List<DemandPaging> uffds = new ArrayList<>();
            try {
                if (p.uffdMode() != null) {
                    numUffds = p.singleUffd() ? 1 : p.nrVcpus();
                    long uffdRegionSize = p.nrVcpus() * p.guestPercpuMemSize() / numUffds;
                    for (int i = 0; i < numUffds; i++) {
                        long vcpuHva = ms.vm().gpa2hva(ms.vcpuArgs(i).gpa());
                        uffds.add(ms.vm().demandPaging(new DemandPaging.Config(p.uffdMode(), p.uffdDelayUs(), vcpuHva,
                                uffdRegionSize, p.readersPerUffd(), demandPagingSize, GUEST_DATA_FILL,
                                (m, r, addr) -> handleUffdPageRequest(m, r, addr, demandPagingSize))));
                    }
                }
                GuestLog.info("Finished creating vCPUs and starting uffd threads\n");

                Stats before = ms.vm().stats();
                Host host = ms.vm().host();
                long start = host.nanoTime();
                VcpuThreads threads = VcpuThreads.start(host, ms.vcpuArgs(), p.pinning() == null ? null : p.pinning().vcpuToPcpu(),
                        DemandPagingTest::vcpuWorker);
                GuestLog.info("Started all vCPUs\n");
                threads.join();
                long totalNs = host.nanoTime() - start;
                GuestLog.info("All vCPU threads joined\n");
                Stats.Delta delta = ms.vm().stats().delta(before);

                long uffdPages = 0;
                Histogram pageIn = new Histogram(3);
                for (DemandPaging dp : uffds) {
                    dp.close();
                    uffdPages += dp.pagesHandled();
                    pageIn.add(dp.pageInLatencyNs());
                }
                uffds.clear();

                GuestLog.info("Total guest execution time:\t%d.%09ds\n", totalNs / 1_000_000_000L, totalNs % 1_000_000_000L);
                long pages = ms.vcpuArgs(0).pages();
                double perVcpu = pages / (totalNs / 1e9);
                GuestLog.info("Per-vcpu demand paging rate:\t%f pgs/sec/vcpu\n", perVcpu);
                GuestLog.info("Overall demand paging rate:\t%f pgs/sec\n", perVcpu * p.nrVcpus());
                long[] perThread = threads.durationsNs();
                for (int i = 0; i < perThread.length; i++) {
                    GuestLog.debug("vCPU %d execution time: %d.%09ds\n", i, perThread[i] / 1_000_000_000L, perThread[i] % 1_000_000_000L);
                }
                Histogram firstTouch = p.touchLatency() ? firstTouchNs(ms) : null;
                return new Outcome(mode, totalNs, perVcpu, perVcpu * p.nrVcpus(), pages, uffdPages, pageIn, firstTouch,
                        ms.vm().tscKhz(), delta, ms.vm().backendReport());
            } finally {
                for (DemandPaging dp : uffds) {
                    dp.close();
                }
            }
        }
    }

    /** The timed guest's per-access TSC deltas of every vCPU, in ns (after the run, outside the measurement). */
    static Histogram firstTouchNs(Memstress ms) {
        long khz = ms.vm().tscKhz();
        TestAssertionFailure.check(khz > 0, "tsc_khz > 0", "KVM_GET_TSC_KHZ gave %d", khz);
        Histogram h = new Histogram(3);
        for (int v = 0; v < ms.vcpuArgs().size(); v++) {
            for (long ticks : ms.accessTicks(v)) {
                // ticks * 1e6 / khz without overflow for any plausible delta (< 2^43 ticks).
                h.recordValue(Math.max(0, ticks) * 1_000_000L / khz);
            }
        }
        return h;
    }

    /** vcpu_worker(): one run; the guest must stop at its first GUEST_SYNC. */
    static void vcpuWorker(VcpuArgs args) {
        var exit = args.vcpu().run();
        Ucall uc = args.vcpu().ucall();
        if (uc.kind() == Ucall.Kind.ABORT) {
            throw TestAssertionFailure.guestAssert(uc);
        }
        TestAssertionFailure.check(uc.kind() == Ucall.Kind.SYNC, "get_ucall(vcpu, NULL) == UCALL_SYNC",
                "Invalid guest sync status: exit_reason=%s", exit.name());
    }

    /**
     * handle_uffd_page_request(): COPY the 0xAB prototype (MISSING) or CONTINUE (MINOR) one backing page.
     * EEXIST means another reader resolved the same page first, which is expected with several readers.
     */
    static void handleUffdPageRequest(DemandPaging.Mode mode, DemandPaging.Resolver resolver, long addr,
                                      long demandPagingSize) {
        try {
            if (mode == DemandPaging.Mode.MISSING) {
                resolver.copy(addr, demandPagingSize);
            } else {
                resolver.cont(addr, demandPagingSize);
            }
        } catch (UffdResolveException e) {
            if (!e.isEexist()) {
                if (mode == DemandPaging.Mode.MISSING) {
                    GuestLog.info("Failed UFFDIO_COPY in 0x%x from thread %d, errno = %d\n", addr, Sys.gettid(), e.errno());
                } else {
                    GuestLog.info("Failed UFFDIO_CONTINUE in 0x%x, thread %d, errno = %d\n", addr, Sys.gettid(), e.errno());
                }
                throw e;
            }
        }
    }

    @Override
    public Map<String, Object> options() {
        Params p = params;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("guest_modes", p.modes().stream().map(GuestMode::name).toList());
        m.put("uffd_mode", p.uffdMode() == null ? null : p.uffdMode().name());
        m.put("single_uffd", p.singleUffd());
        m.put("uffd_delay_usec", p.uffdDelayUs());
        m.put("readers_per_uffd", p.readersPerUffd());
        m.put("guest_percpu_mem_size", p.guestPercpuMemSize());
        m.put("backing_src", p.src().cliName());
        m.put("vcpus", p.nrVcpus());
        m.put("partition_vcpu_memory_access", p.partition());
        m.put("vcpu_pinning", p.pinning() == null ? null : cpuList);
        m.put("touch_latency", p.touchLatency());
        return m;
    }
}
