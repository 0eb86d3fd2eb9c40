// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.harness.TestUtil;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuArgs;
import dev.kvmharness.harness.memstress.VcpuIterations;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.sys.Sys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Port of tools/testing/selftests/kvm/dirty_log_perf_test.c (6.12): the vCPUs populate their memory, the host
 * enables dirty logging on the test memslots, then for each iteration the vCPUs dirty their memory once more
 * while the host waits, and the host harvests the log (KVM_GET_DIRTY_LOG, and KVM_CLEAR_DIRTY_LOG with
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2); finally it disables dirty logging. Prints the time of each phase.
 *
 * <p>Upstream since 6.12 the test changed for arm64 only (the include path renamed in 6.14, and the GICv3 it
 * created moved into the library's default VM later), and memstress only in its integer types; x86 behaves as
 * in 6.12, which this port follows. As in 6.12, -p is parsed and then used by nothing. -n (vCPUs in L2) skips:
 * the harness cannot run a nested guest.
 */
@Command(name = "dirty_log_perf_test", sortOptions = false,
        customSynopsis = "dirty_log_perf_test [-h] [-a] [-i iterations] [-p offset] [-g] [-m mode] [-n] [-b vcpu bytes]"
                + " [-v vcpus] [-o] [-r random seed ] [-s mem type][-x memslots] [-w percentage]"
                + " [-c physical cpus to run test on]",
        description = "KVM dirty page logging performance test: vCPUs dirty their memory while the host harvests the"
                + " dirty log, iteration by iteration.")
public final class DirtyLogPerfTest implements Callable<Integer>, Port {
    /** TEST_HOST_LOOP_N: how many host loops (one KVM_GET_DIRTY_LOG each) by default. */
    static final int TEST_HOST_LOOP_N = 2;

    @Option(names = "-a", description = "Access memory randomly rather than in order.")
    boolean randomAccess;

    @Option(names = "-b", paramLabel = "vcpu bytes", description = "Size of the memory region which should be dirtied by"
            + " each vCPU, e.g. 10M or 3G. Default: 1G")
    String memory;

    @Option(names = "-c", paramLabel = "physical cpus to run test on", description = "Pin vCPUs to pCPUs: one pCPU per"
            + " vCPU, plus an optional extra entry to pin the main task, e.g. -c 22,23,24,50.")
    String cpuList;

    @Option(names = "-e", description = "Run vCPUs while dirty logging is being disabled. This can significantly"
            + " increase runtime, especially if there isn't a dedicated pCPU for the main thread.")
    boolean runVcpusWhileDisablingDirtyLogging;

    @Option(names = "-g", description = "Do not enable KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2. This makes KVM_GET_DIRTY_LOG"
            + " clear the dirty log (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE is not enabled) and writes will be tracked as"
            + " soon as dirty logging is enabled on the memslot (KVM_DIRTY_LOG_INITIALLY_SET is not enabled).")
    boolean noManualProtect;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "-i", paramLabel = "iterations", description = "Iteration count, at least 2 (default: 2).")
    String iterationsArg;

    @Option(names = "-m", paramLabel = "mode", description = "Guest mode ID to test (x86-64: 9 = PA-bits:ANY, VA-bits:48,"
            + "  4K pages). May be used multiple times.")
    List<String> modes = new ArrayList<>();

    @Option(names = "-n", description = "Run the vCPUs in nested mode (L2). Not supported by the harness: the test skips.")
    boolean nested;

    @Option(names = "-o", description = "Overlap guest memory accesses instead of partitioning them into a separate"
            + " region of memory for each vCPU.")
    boolean overlap;

    @Option(names = "-p", paramLabel = "offset", description = "Guest physical test memory offset (as in 6.12, parsed and"
            + " not used).")
    String physOffsetArg;

    @Option(names = "-r", paramLabel = "random seed", description = "The guests' starting random seed (guest_random_seed;"
            + " default 1). Not --seed, which seeds the simulator and is printed first.")
    String randomSeedArg;

    @Option(names = "-s", paramLabel = "mem type", description = "Type of memory that should be used to back the guest"
            + " data region (default: anonymous). Available: anonymous, anonymous_thp, anonymous_hugetlb,"
            + " anonymous_hugetlb_2mb, anonymous_hugetlb_1gb, shmem, shared_hugetlb")
    String backing;

    @Option(names = "-v", paramLabel = "vcpus", description = "Number of vCPUs to run.")
    String vcpus;

    @Option(names = "-x", paramLabel = "memslots", description = "Split the memory region into this number of memslots."
            + " Default: 1")
    String slotsArg;

    @Option(names = "-w", paramLabel = "percentage", description = "Percentage of pages which should be written to, an"
            + " integer from 0 to 100: each page has that chance of being written and the rest of being read."
            + " Default: 100 (every page is written).")
    String writePercentArg;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    private Params params;
    /** dirty_log_manual_caps as the run resolved it: the backend's KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 bits, 0 with -g. */
    private long dirtyLogManualCaps = -1;

    /** struct test_params plus the other globals main() sets. */
    record Params(List<GuestMode> modes, int iterations, long physOffset, boolean partition, BackingSource src, int slots,
                  int writePercent, boolean randomAccess, long guestRandomSeed, int nrVcpus, long guestPercpuMemSize,
                  boolean runVcpusWhileDisabling, boolean noManualProtect, boolean nested, TestUtil.VcpuPinning pinning) {
    }

    /** What run_test() measured, in ns (virtual on the simulator). */
    record Outcome(long populateNs, long enableNs, long[] dirtyNs, long[] getNs, long[] clearNs, long disableNs,
                   long vcpuDirtyTotalNs, long getTotalNs, long clearTotalNs, long[] dirtyPages, long pagesPerVcpu,
                   int lastCompletedIteration, Stats.Delta stats, Map<String, Object> backendReport) {
    }

    @Override
    public String name() {
        return "dirty_log_perf_test";
    }

    @Override
    public void validate() {
        params = parse();
    }

    /** main()'s option loop and checks; a bad value is a usage error here instead of an assertion at run time. */
    Params parse() {
        List<GuestMode> m = GuestMode.fromCmdline(modes);
        long size = memory == null ? Memstress.DEFAULT_PER_VCPU_MEM_SIZE : DemandPagingTest.parseMemory(memory, m);
        int iterations = iterationsArg == null ? TEST_HOST_LOOP_N : TestUtil.atoiPositive("Number of iterations", iterationsArg);
        long physOffset = physOffsetArg == null ? 0 : strtoull("-p", physOffsetArg);
        long seed = randomSeedArg == null ? 1 : TestUtil.atoiPositive("Random seed", randomSeedArg);
        BackingSource src = backing == null ? BackingSource.ANONYMOUS : BackingSource.parse(backing);
        int n = vcpus == null ? 1 : TestUtil.atoiPositive("Number of vCPUs", vcpus);
        int writePercent = 100;
        if (writePercentArg != null) {
            writePercent = TestUtil.atoiNonNegative("Write percentage", writePercentArg);
            if (writePercent > 100) {
                throw new IllegalArgumentException("Write percentage must be between 0 and 100, got " + writePercent);
            }
        }
        int slots = slotsArg == null ? 1 : TestUtil.atoiPositive("Number of slots", slotsArg);
        TestUtil.VcpuPinning pin = cpuList == null ? null : TestUtil.parseVcpuPinning(cpuList, n);
        if (iterations < 2) {
            throw new IllegalArgumentException("The test should have at least two iterations (-i " + iterations + ")");
        }
        if (size > Long.MAX_VALUE / n) {
            throw new IllegalArgumentException("-v " + n + " x -b " + Usage.size(size) + " overflows 64 bits");
        }
        for (GuestMode mode : m) {
            long pages = n * size / mode.pageSize();
            if (pages % slots != 0) {
                throw new IllegalArgumentException("Guest memory cannot be evenly divided into " + slots + " slots: -v " + n
                        + " x -b " + Usage.size(size) + " is " + pages + " guest pages");
            }
        }
        long perSlot = n * size / slots;
        // Each slot's memory is mmap()ed on its own: hugetlb in whole huge pages, and every slot must start on a
        // boundary of the backing's page size (vm_mem_add() asserts it, THP included).
        if ((src.isHugetlb() || slots > 1) && perSlot % src.pageSize() != 0) {
            throw new IllegalArgumentException("-v " + n + " x -b " + Usage.size(size) + (slots > 1 ? " / -x " + slots : "")
                    + " gives memslots of " + Usage.size(perSlot) + ", not a multiple of the " + Usage.size(src.pageSize())
                    + " page size of -s " + src.cliName());
        }
        return new Params(m, iterations, physOffset, !overlap, src, slots, writePercent, randomAccess, seed, n, size,
                runVcpusWhileDisablingDirtyLogging, noManualProtect, nested, pin);
    }

    /** strtoull(arg, NULL, 0), except that a value that is not a number is a usage error. */
    static long strtoull(String option, String arg) {
        String s = arg.trim();
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                return Long.parseUnsignedLong(s.substring(2), 16);
            }
            if (s.length() > 1 && s.startsWith("0")) {
                return Long.parseUnsignedLong(s.substring(1), 8);
            }
            return Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + arg + "' is not an unsigned number (decimal, 0x hex or 0 octal)", e);
        }
    }

    /** The checks against KVM_CAP_MAX_VCPUS and the guest's address space, as demand_paging_test makes them. */
    @Override
    public void validate(Backend backend) {
        MemstressLimits.check(backend, params.nrVcpus(), params.guestPercpuMemSize(), params.modes());
    }

    @Override
    public Integer call() {
        return TestMain.run(this, common, spec.commandLine());
    }

    /** main() after option parsing: the manual-protect caps, "Test iterations", then run_test() per guest mode. */
    @Override
    public Result execute(Backend backend, long seed) {
        Params p = params;
        dirtyLogManualCaps = p.noManualProtect() ? 0 : backend.checkCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)
                & (KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KvmApi.KVM_DIRTY_LOG_INITIALLY_SET);
        if (p.pinning() != null && p.pinning().mainPcpu() != null) {
            Sys.pinToCpu(0, p.pinning().mainPcpu());
        }
        GuestLog.info("Test iterations: %d\n", p.iterations());
        // memstress_args.nested: the C test builds an L1 guest that enters VMX and runs memstress in L2. The harness
        // has no nested virtualization (no VMX or SVM in its guests, no EPT12), on either backend.
        TestSkipped.require(!p.nested(), "-n: running the vCPUs in L2 needs nested virtualization, which the harness"
                + " does not support (its guests cannot enter VMX or SVM)");
        Outcome last = null;
        for (GuestMode mode : p.modes()) {
            last = runTest(backend, mode, p, dirtyLogManualCaps, Duration.ofSeconds(common.runTimeoutSeconds));
        }
        return result(last, p);
    }

    /** The JSON report's figures: every phase time the C test prints, the harvest counts, the stats deltas. */
    static Result result(Outcome o, Params p) {
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("populate_memory_ns", o.populateNs());
        timings.put("enable_dirty_logging_ns", o.enableNs());
        for (int i = 0; i < o.dirtyNs().length; i++) {
            timings.put("iteration_" + (i + 1) + "_dirty_memory_ns", o.dirtyNs()[i]);
            timings.put("iteration_" + (i + 1) + "_get_dirty_log_ns", o.getNs()[i]);
            if (o.clearNs() != null) {
                timings.put("iteration_" + (i + 1) + "_clear_dirty_log_ns", o.clearNs()[i]);
            }
        }
        timings.put("disable_dirty_logging_ns", o.disableNs());
        timings.put("dirty_memory_total_ns", o.vcpuDirtyTotalNs());
        timings.put("get_dirty_log_total_ns", o.getTotalNs());
        timings.put("get_dirty_log_avg_ns", o.getTotalNs() / p.iterations());
        if (o.clearNs() != null) {
            timings.put("clear_dirty_log_total_ns", o.clearTotalNs());
            timings.put("clear_dirty_log_avg_ns", o.clearTotalNs() / p.iterations());
        }
        Map<String, Object> rates = new LinkedHashMap<>();
        rates.put("pages_per_vcpu", o.pagesPerVcpu());
        long harvested = 0;
        for (int i = 0; i < o.dirtyPages().length; i++) {
            rates.put("iteration_" + (i + 1) + "_dirty_pages", o.dirtyPages()[i]);
            harvested += o.dirtyPages()[i];
        }
        rates.put("dirty_pages_harvested", harvested);
        return new Result(timings, rates, Map.of(), o.stats(), o.backendReport());
    }

    /** run_test(). */
    static Outcome runTest(Backend backend, GuestMode mode, Params p, long dirtyLogManualCaps, Duration runTimeout) {
        Memstress.Options opts = new Memstress.Options(100, false, p.guestRandomSeed(), runTimeout);
        try (Memstress ms = Memstress.createVm(backend, mode, p.nrVcpus(), p.guestPercpuMemSize(), p.slots(), p.src(),
                p.partition(), opts)) {
            ms.setWritePercent(p.writePercent());
            long pagesPerSlot = ms.pagesPerSlot();
            long[][] bitmaps = ms.allocBitmaps();
            if (dirtyLogManualCaps != 0) {
                ms.vm().enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, dirtyLogManualCaps);
            }
            Host host = ms.vm().host();
            Stats before = ms.vm().stats();
            VcpuIterations it = new VcpuIterations(host, p.nrVcpus());
            long start = host.nanoTime();

            // 100% writes while populating, so that every page is really allocated and not left mapped to the zero
            // page: copy-on-write faults would otherwise pollute the dirty memory iterations.
            ms.setWritePercent(100);
            ms.setRandomAccess(false);
            long[] vcpuDirtyNs = new long[p.nrVcpus()];
            ms.startVcpuThreads(p.pinning() == null ? null : p.pinning().vcpuToPcpu(),
                    it.worker(a -> vcpuWorker(a, it, host, vcpuDirtyNs)));
            try {
                GuestLog.debug("Starting iteration %d - Populating\n", it.iteration());
                it.awaitCompleted(it.iteration());
                long populateNs = host.nanoTime() - start;
                GuestLog.info("Populate memory time: %s\n", ts(populateNs));

                start = host.nanoTime();
                ms.enableDirtyLogging();
                long enableNs = host.nanoTime() - start;
                GuestLog.info("Enabling dirty logging time: %s\n\n", ts(enableNs));

                ms.setWritePercent(p.writePercent());
                ms.setRandomAccess(p.randomAccess());

                long[] dirtyNs = new long[p.iterations()];
                long[] getNs = new long[p.iterations()];
                long[] clearNs = dirtyLogManualCaps != 0 ? new long[p.iterations()] : null;
                long[] dirtyPages = new long[p.iterations()];
                long vcpuDirtyTotal = 0;
                long getTotal = 0;
                long clearTotal = 0;
                while (it.iteration() < p.iterations()) {
                    // Bumping the iteration starts the vCPUs dirtying memory again.
                    start = host.nanoTime();
                    int iteration = it.next();
                    GuestLog.debug("Starting iteration %d\n", iteration);
                    it.awaitCompleted(iteration);
                    long t = host.nanoTime() - start;
                    dirtyNs[iteration - 1] = t;
                    vcpuDirtyTotal += t;
                    GuestLog.info("Iteration %d dirty memory time: %s\n", iteration, ts(t));

                    start = host.nanoTime();
                    ms.getDirtyLog(bitmaps);
                    t = host.nanoTime() - start;
                    getNs[iteration - 1] = t;
                    getTotal += t;
                    GuestLog.info("Iteration %d get dirty log time: %s\n", iteration, ts(t));
                    dirtyPages[iteration - 1] = popcount(bitmaps);

                    if (dirtyLogManualCaps != 0) {
                        start = host.nanoTime();
                        ms.clearDirtyLog(bitmaps, pagesPerSlot);
                        t = host.nanoTime() - start;
                        clearNs[iteration - 1] = t;
                        clearTotal += t;
                        GuestLog.info("Iteration %d clear dirty log time: %s\n", iteration, ts(t));
                    }
                }

                // -e: the vCPUs keep running while dirty logging is disabled, stressing the zap of collapsible SPTEs.
                if (p.runVcpusWhileDisabling()) {
                    it.set(-1);
                }
                start = host.nanoTime();
                ms.disableDirtyLogging();
                long disableNs = host.nanoTime() - start;
                GuestLog.info("Disabling dirty logging time: %s\n", ts(disableNs));

                // The join waits for the vCPUs to finish the pass they are in.
                it.quit();
                ms.joinVcpuThreads();
                Stats.Delta delta = ms.vm().stats().delta(before);

                GuestLog.info("Get dirty log over %d iterations took %s. (Avg %s/iteration)\n", p.iterations(),
                        ts(getTotal), ts(getTotal / p.iterations()));
                if (dirtyLogManualCaps != 0) {
                    GuestLog.info("Clear dirty log over %d iterations took %s. (Avg %s/iteration)\n", p.iterations(),
                            ts(clearTotal), ts(clearTotal / p.iterations()));
                }
                return new Outcome(populateNs, enableNs, dirtyNs, getNs, clearNs, disableNs, vcpuDirtyTotal, getTotal,
                        clearTotal, dirtyPages, ms.vcpuArgs(0).pages(), it.lastCompleted(0), delta, ms.vm().backendReport());
            } catch (RuntimeException | Error e) {
                // A failure on the host side: let the vCPU threads leave their loops before the VM goes.
                it.quit();
                try {
                    ms.joinVcpuThreads();
                } catch (RuntimeException | Error vcpuFailure) {
                    if (vcpuFailure != e) {
                        e.addSuppressed(vcpuFailure);
                    }
                }
                throw e;
            }
        }
    }

    /** vcpu_worker(): one guest pass per iteration, until the host quits. */
    static void vcpuWorker(VcpuArgs args, VcpuIterations it, Host host, long[] vcpuDirtyNs) {
        Vcpu vcpu = args.vcpu();
        int idx = args.vcpuIdx();
        long pagesCount = 0;
        long total = 0;
        while (!it.quitting()) {
            int current = it.iteration();
            long start = host.nanoTime();
            int ret = vcpu.tryRun();
            long diff = host.nanoTime() - start;

            TestAssertionFailure.check(ret == 0, "ret == 0", "vcpu_run failed: %d", ret);
            Ucall uc = vcpu.ucall();
            if (uc.kind() == Ucall.Kind.ABORT) {
                throw TestAssertionFailure.guestAssert(uc);
            }
            TestAssertionFailure.check(uc.kind() == Ucall.Kind.SYNC, "get_ucall(vcpu, NULL) == UCALL_SYNC",
                    "Invalid guest sync status: exit_reason=%s", vcpu.lastExit() == null ? "none" : vcpu.lastExit().name());

            GuestLog.debug("Got sync event from vCPU %d\n", idx);
            it.completed(idx, current);
            GuestLog.debug("vCPU %d updated last completed iteration to %d\n", idx, it.lastCompleted(idx));

            if (current != 0) {
                pagesCount += args.pages();
                total += diff;
                GuestLog.debug("vCPU %d iteration %d dirty memory time: %s\n", idx, current, ts(diff));
            } else {
                GuestLog.debug("vCPU %d iteration %d populate memory time: %s\n", idx, current, ts(diff));
            }

            // With a negative iteration the vCPUs keep running the guest while dirty logging is disabled, so that
            // they access memory for the whole time collapsible SPTEs are zapped.
            it.awaitNext(current);
        }
        vcpuDirtyNs[idx] = total;
        int done = it.lastCompleted(idx);
        long avg = done == 0 ? 0 : total / done;
        GuestLog.debug("\nvCPU %d dirtied 0x%x pages over %d iterations in %s. (Avg %s/iteration)\n", idx, pagesCount,
                done, ts(total), ts(avg));
    }

    /** The number of pages set in the bitmaps: what the last KVM_GET_DIRTY_LOG reported dirty. */
    static long popcount(long[][] bitmaps) {
        long n = 0;
        for (long[] bm : bitmaps) {
            for (long w : bm) {
                n += Long.bitCount(w);
            }
        }
        return n;
    }

    /** "%ld.%.9lds" of a timespec. */
    static String ts(long ns) {
        return String.format(Locale.ROOT, "%d.%09ds", ns / 1_000_000_000L, Math.abs(ns % 1_000_000_000L));
    }

    @Override
    public Map<String, Object> options() {
        Params p = params;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("guest_modes", p.modes().stream().map(GuestMode::name).toList());
        m.put("iterations", p.iterations());
        m.put("phys_offset", p.physOffset());
        m.put("partition_vcpu_memory_access", p.partition());
        m.put("backing_src", p.src().cliName());
        m.put("slots", p.slots());
        m.put("write_percent", p.writePercent());
        m.put("random_access", p.randomAccess());
        m.put("guest_random_seed", p.guestRandomSeed());
        m.put("vcpus", p.nrVcpus());
        m.put("guest_percpu_mem_size", p.guestPercpuMemSize());
        m.put("run_vcpus_while_disabling_dirty_logging", p.runVcpusWhileDisabling());
        m.put("dirty_log_manual_caps", dirtyLogManualCaps < 0 ? null : dirtyLogManualCaps);
        m.put("nested", p.nested());
        m.put("vcpu_pinning", p.pinning() == null ? null : cpuList);
        return m;
    }
}
