// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.harness.TestUtil;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Label;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.sys.Errno;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Port of tools/testing/selftests/kvm/memslot_perf_test.c (6.12): a memslot benchmark. Test memory at 256 MiB
 * is split into as many memslots as KVM allows (or {@code -s}), and six tests, in the C order, each run for
 * {@code -l} seconds while one vCPU works on the memory: map (the host drops host pages the guest then faults
 * back in), unmap and unmap chunked (MADV_DONTNEED in 4 KiB and 2 MiB pieces), move active area and move inactive
 * area (the last memslot moved away and back, with the guest writing to it or beside it) and RW (guest and host
 * write and check every page). Each test prints its slot setup time, iterations and average, and the best run.
 *
 * <p>Guest and host meet as in C through a sync area at the start of the test memory: the host raises start,
 * exit and sync flags with {@link Vm#write64}, the guest clears the sync flag (C's compare-exchange; only the
 * guest clears and the host waits for it, so a load and a store are the same handshake), and the host waits
 * for that with {@link Host#spinUntilGuest}, which is virtual time on the simulator. C's alarm(10) around the
 * wait is a test failure after 10 s. A bad option is a usage error (exit 2) instead of C's exit 255.
 *
 * <p>Upstream since 6.12: a search of the upstream copies found no change to this file beyond 6.12's text (the
 * 6.12 file already has {@code -q}, KVM_X86_QUIRK_SLOT_ZAP_ALL), so the port follows 6.12. Beyond the C lines,
 * {@code --json} reports each test's best and worst run, per memslot and per page.
 */
@Command(name = "memslot_perf_test", sortOptions = false,
        customSynopsis = "memslot_perf_test [-h] [-v] [-d] [-s slots] [-f first_test] [-e last_test] [-l test_length]"
                + " [-r run_count]",
        description = "A memslot-related performance benchmark: map, unmap, move and RW tests over many memslots.",
        footer = {"", "Available tests:", "0: map", "1: unmap", "2: unmap chunked", "3: move active area",
            "4: move inactive area", "5: RW"})
public final class MemslotPerfTest implements Callable<Integer>, Port {
    static final long SZ_64K = 64 << 10;
    static final long SZ_2M = 2L << 20;
    static final long PAGE_SIZE = 4096;
    static final long MEM_EXTRA_SIZE = SZ_64K;
    static final long MEM_SIZE = (512L << 20) + MEM_EXTRA_SIZE;
    static final long MEM_GPA = 256L << 20;
    static final long MEM_SYNC_GPA = MEM_GPA;
    static final long MEM_TEST_GPA = MEM_GPA + MEM_EXTRA_SIZE;
    static final long MEM_TEST_SIZE = MEM_SIZE - MEM_EXTRA_SIZE;
    /** 32 MiB: the largest size with well over 100 iterations on 509 slots. */
    static final long MEM_SIZE_MAP = (32L << 20) + MEM_EXTRA_SIZE;
    static final long MEM_TEST_MAP_SIZE = MEM_SIZE_MAP - MEM_EXTRA_SIZE;
    /** 128 MiB: the smallest that gives each of 32k slots a page and still 100+ iterations. */
    static final long MEM_TEST_UNMAP_SIZE = 128L << 20;
    static final long MEM_TEST_UNMAP_CHUNK_SIZE = SZ_2M;
    static final long MEM_TEST_MOVE_SIZE = 3 * SZ_64K;
    static final long MEM_TEST_MOVE_GPA_DEST = MEM_GPA + MEM_SIZE;
    static final long MEM_TEST_VAL_1 = 0x1122334455667788L;
    static final long MEM_TEST_VAL_2 = 0x99AABBCCDDEEFF00L;

    /** struct sync_area, one u64 per field. */
    static final int SYNC_PAGE_SIZE = 0;
    static final int SYNC_START = 8;
    static final int SYNC_EXIT = 16;
    static final int SYNC_FLAG = 24;
    static final int SYNC_MOVE_AREA = 32;

    /** wait_for_vcpu()'s sem_timedwait() and host_perform_sync()'s alarm(). */
    static final Duration VCPU_READY_TIMEOUT = Duration.ofSeconds(2);
    static final Duration SYNC_TIMEOUT = Duration.ofSeconds(10);

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help screen.")
    boolean help;

    @Option(names = "-v", description = "enable verbose mode (not for benchmarking).")
    boolean verbose;

    @Option(names = "-d", description = "enable extra debug checks.")
    boolean mapUnmapVerify;

    @Option(names = "-q", description = "Disable memslot zap quirk during memslot move.")
    boolean disableSlotZapQuirk;

    @Option(names = "-s", paramLabel = "slots", description = "specify memslot count cap (-1 means no cap; currently: -1)")
    String slotsArg;

    @Option(names = "-f", paramLabel = "first_test", description = "specify the first test to run (currently: 0; max 5)")
    String firstArg;

    @Option(names = "-e", paramLabel = "last_test", description = "specify the last test to run (currently: 5; max 5)")
    String lastArg;

    @Option(names = "-l", paramLabel = "test_length", description = "specify the test length in seconds (currently: 5)")
    String secondsArg;

    @Option(names = "-r", paramLabel = "run_count", description = "specify the number of runs per test (currently: 1)")
    String runsArg;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    /** struct test_args. */
    record Args(int tfirst, int tlast, int nslotsCap, int seconds, int runs) {
    }

    private Args args;
    /** targs.nslots after parse_args(): the test memslots (slot 0 is the harness's). */
    private int nslots;

    enum Guest { MAP, UNMAP, MOVE, RW }

    enum Loop { MAP, UNMAP, UNMAP_CHUNKED, MOVE, RW }

    /** struct test_data. */
    enum TestData {
        MAP_TEST("map", MEM_SIZE_MAP, Guest.MAP, null, Loop.MAP, MEM_TEST_MAP_SIZE),
        UNMAP_TEST("unmap", MEM_TEST_UNMAP_SIZE + MEM_EXTRA_SIZE, Guest.UNMAP, null, Loop.UNMAP, MEM_TEST_UNMAP_SIZE),
        UNMAP_CHUNKED("unmap chunked", MEM_TEST_UNMAP_SIZE + MEM_EXTRA_SIZE, Guest.UNMAP, null, Loop.UNMAP_CHUNKED,
                MEM_TEST_UNMAP_SIZE),
        MOVE_ACTIVE("move active area", 0, Guest.MOVE, Boolean.TRUE, Loop.MOVE, MEM_TEST_MOVE_SIZE),
        MOVE_INACTIVE("move inactive area", 0, Guest.MOVE, Boolean.FALSE, Loop.MOVE, MEM_TEST_MOVE_SIZE),
        RW("RW", 0, Guest.RW, null, Loop.RW, MEM_TEST_SIZE);

        final String label;
        final long memSize;
        final Guest guest;
        /** The move tests' prepare(): active or not; null: none. */
        final Boolean moveActive;
        final Loop loop;
        /** The area one iteration works on, for the per-page times in --json (not a C figure). */
        final long areaSize;

        TestData(String label, long memSize, Guest guest, Boolean moveActive, Loop loop, long areaSize) {
            this.label = label;
            this.memSize = memSize;
            this.guest = guest;
            this.moveActive = moveActive;
            this.loop = loop;
            this.areaSize = areaSize;
        }

        String key() {
            return label.replace(' ', '_').toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final int NTESTS = TestData.values().length;

    @Override
    public String name() {
        return "memslot_perf_test";
    }

    /** parse_args() up to KVM_CAP_NR_MEMSLOTS. */
    @Override
    public void validate() {
        int cap = -1;
        if (slotsArg != null) {
            cap = TestUtil.atoiParanoid(slotsArg);
            if (cap <= 1 && cap != -1) {
                throw new IllegalArgumentException("Slot count cap must be larger than 1 or -1 for no cap (-s " + slotsArg + ")");
            }
        }
        int first = firstArg == null ? 0 : TestUtil.atoiNonNegative("First test", firstArg);
        int last = NTESTS - 1;
        if (lastArg != null) {
            last = TestUtil.atoiNonNegative("Last test", lastArg);
            if (last >= NTESTS) {
                throw new IllegalArgumentException("Last test to run has to be non-negative and less than " + NTESTS
                        + " (-e " + lastArg + ")");
            }
        }
        int seconds = secondsArg == null ? 5 : TestUtil.atoiNonNegative("Test length", secondsArg);
        int runs = runsArg == null ? 1 : TestUtil.atoiPositive("Runs per test", runsArg);
        if (first > last) {
            throw new IllegalArgumentException("First test to run cannot be greater than the last test to run (-f "
                    + first + " -e " + last + ")");
        }
        args = new Args(first, last, cap, seconds, runs);
    }

    /** The rest of parse_args(): the cap against KVM_CAP_NR_MEMSLOTS. */
    @Override
    public void validate(Backend backend) {
        int maxMemSlots = backend.checkCap(KvmApi.KVM_CAP_NR_MEMSLOTS);
        if (maxMemSlots <= 1) {
            throw new IllegalArgumentException("KVM_CAP_NR_MEMSLOTS should be greater than 1 (the " + backend.name()
                    + " backend has " + maxMemSlots + ")");
        }
        // Memory slot 0 is reserved.
        nslots = args.nslotsCap() == -1 ? maxMemSlots - 1 : Math.min(args.nslotsCap(), maxMemSlots) - 1;
    }

    @Override
    public Map<String, Object> options() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("first_test", args.tfirst());
        m.put("last_test", args.tlast());
        m.put("slot_cap", args.nslotsCap());
        m.put("test_slots", nslots);
        m.put("seconds", args.seconds());
        m.put("runs", args.runs());
        m.put("verbose", verbose);
        m.put("map_unmap_verify", mapUnmapVerify);
        m.put("disable_slot_zap_quirk", disableSlotZapQuirk);
        return m;
    }

    @Override
    public Integer call() {
        return TestMain.run(this, common, spec.commandLine());
    }

    private void infoV(String format, Object... a) {
        if (verbose) {
            GuestLog.info(format, a);
        }
    }

    /** struct test_result. */
    record RunResult(long slotNs, long guestNs, long nloops) {
        long iterNs() {
            return nloops == 0 ? 0 : guestNs / nloops;
        }
    }

    private Stats.Delta stats;
    private Map<String, Object> backendReport = Map.of();

    /** main() after parse_args(). */
    @Override
    public Result execute(Backend backend, long seed) {
        if (disableSlotZapQuirk) {
            TestSkipped.require((backend.checkCap(KvmApi.KVM_CAP_DISABLE_QUIRKS2) & KvmApi.KVM_X86_QUIRK_SLOT_ZAP_ALL) != 0,
                    "Requirement not met: kvm_check_cap(KVM_CAP_DISABLE_QUIRKS2) & KVM_X86_QUIRK_SLOT_ZAP_ALL");
        }
        infoV("Allowed Number of memory slots: %d\n", nslots + 1);
        Duration runTimeout = Duration.ofSeconds(common.runTimeoutSeconds);
        Map<String, Object> timings = new LinkedHashMap<>();
        Map<String, Object> rates = new LinkedHashMap<>();
        RunResult bestSlot = null;
        for (int t = args.tfirst(); t <= args.tlast(); t++) {
            TestData data = TestData.values()[t];
            if (t > args.tfirst()) {
                GuestLog.info("\n");
            }
            GuestLog.info("Testing %s performance with %d runs, %d seconds each\n", data.label, args.runs(), args.seconds());
            RunResult best = null;
            RunResult worst = null;
            for (int run = 0; run < args.runs(); run++) {
                long[] maxslots = {0};
                RunResult r = testExecute(backend, data, maxslots, runTimeout);
                if (r == null) {
                    if (maxslots[0] != 0) {
                        GuestLog.info("Memslot count too high for this test, decrease the cap (max is %d)\n", maxslots[0]);
                    } else {
                        GuestLog.info("Memslot count may be too high for this test, try adjusting the cap\n");
                    }
                    break;
                }
                GuestLog.info("Test took %s for slot setup + %s all iterations\n", ts(r.slotNs()), ts(r.guestNs()));
                if (r.nloops() == 0) {
                    GuestLog.info("No full loops done - too short test time or system too loaded?\n");
                    continue;
                }
                GuestLog.info("Done %d iterations, avg %s each\n", r.nloops(), ts(r.iterNs()));
                // Only rank the slot setup time of the tests using the whole test memory area.
                if (data.memSize == 0 && (bestSlot == null || r.slotNs() < bestSlot.slotNs())) {
                    bestSlot = r;
                }
                if (best == null || r.iterNs() < best.iterNs()) {
                    best = r;
                }
                if (worst == null || r.iterNs() > worst.iterNs()) {
                    worst = r;
                }
            }
            if (best != null) {
                GuestLog.info("Best runtime result was %s per iteration (with %d iterations)\n", ts(best.iterNs()), best.nloops());
                long pages = data.areaSize / PAGE_SIZE;
                String k = data.key();
                timings.put(k + "_best_iteration_ns", best.iterNs());
                timings.put(k + "_worst_iteration_ns", worst.iterNs());
                timings.put(k + "_best_iteration_per_page_ns", best.iterNs() / pages);
                timings.put(k + "_worst_iteration_per_page_ns", worst.iterNs() / pages);
                timings.put(k + "_best_slot_setup_ns", best.slotNs());
                timings.put(k + "_best_slot_setup_per_slot_ns", best.slotNs() / nslots);
                timings.put(k + "_worst_slot_setup_per_slot_ns", worst.slotNs() / nslots);
                rates.put(k + "_best_iterations", best.nloops());
                rates.put(k + "_worst_iterations", worst.nloops());
            }
        }
        if (bestSlot != null) {
            GuestLog.info("Best slot setup time for the whole test area was %s\n", ts(bestSlot.slotNs()));
            timings.put("best_slot_setup_whole_area_ns", bestSlot.slotNs());
        }
        rates.put("test_slots", nslots);
        return new Result(timings, rates, Map.of(), stats, backendReport);
    }

    /** "%ld.%.9lds" of a timespec. */
    static String ts(long ns) {
        return String.format(java.util.Locale.ROOT, "%d.%09ds", ns / 1_000_000_000L, ns % 1_000_000_000L);
    }

    // ------------------------------------------------------------------ struct vm_data

    /** struct vm_data and its vCPU thread. */
    static final class VmData {
        final Vm vm;
        final Vcpu vcpu;
        final int nslots;
        final long npages;
        final long pagesPerSlot;
        final Host.Semaphore vcpuReady;
        volatile boolean mmioOk;
        volatile long mmioGpaMin;
        volatile long mmioGpaMax;
        volatile RuntimeException failure;
        Host.HostThread thread;

        VmData(Vm vm, int nslots, long npages) {
            this.vm = vm;
            this.vcpu = vm.vcpu(0);
            this.nslots = nslots;
            this.npages = npages;
            this.pagesPerSlot = npages / nslots;
            this.vcpuReady = vm.host().newSemaphore("vcpu_ready");
        }

        /** vm_gpa2hva()'s slot arithmetic: the pages left in gpa's slot from gpa on. */
        long remPages(long gpa) {
            TestAssertionFailure.check(gpa >= MEM_GPA, "gpa >= MEM_GPA", "Too low gpa to translate");
            TestAssertionFailure.check(gpa < MEM_GPA + npages * PAGE_SIZE, "gpa < MEM_GPA + data->npages * guest_page_size",
                    "Too high gpa to translate");
            long off = gpa - MEM_GPA;
            long gpage = off / PAGE_SIZE;
            TestAssertionFailure.check(off % PAGE_SIZE == 0, "!pgoffs", "Asking for remaining pages in slot but gpa not page aligned");
            long slot = Math.min(gpage / pagesPerSlot, nslots - 1L);
            long slotoffs = gpage - slot * pagesPerSlot;
            long slotpages = slot == nslots - 1 ? npages - slot * pagesPerSlot : pagesPerSlot;
            return slotpages - slotoffs;
        }

        /** vm_slot2gpa(), slot counted from 0 for the first test slot. */
        long slot2gpa(int slot) {
            TestAssertionFailure.check(slot < nslots, "slot < data->nslots", "Too high slot number");
            return MEM_GPA + slot * pagesPerSlot * PAGE_SIZE;
        }

        /** vcpu_worker(). */
        void worker() {
            try {
                while (true) {
                    Exit exit = vcpu.run();
                    if (exit.is(Exit.IO)) {
                        Ucall uc = vcpu.ucall();
                        if (uc.kind() == Ucall.Kind.SYNC) {
                            TestAssertionFailure.check(uc.stage() == 0, "uc.args[1] == 0", "Unexpected sync ucall, got %x", uc.stage());
                            vcpuReady.post();
                            continue;
                        }
                        if (uc.kind() == Ucall.Kind.ABORT) {
                            throw TestAssertionFailure.guestAssert(uc);
                        }
                        if (uc.kind() == Ucall.Kind.DONE) {
                            return;
                        }
                        throw new TestAssertionFailure("Unknown ucall " + uc.kind());
                    }
                    if (!exit.is(Exit.MMIO)) {
                        return;
                    }
                    checkMmioAccess(vcpu.mmio());
                }
            } catch (RuntimeException e) {
                // The C test dies here; the Java one hands the failure to the main thread, which may be waiting.
                failure = e;
                vcpuReady.post();
                throw e;
            }
        }

        /** check_mmio_access(). */
        private void checkMmioAccess(Exit.Mmio mmio) {
            TestAssertionFailure.check(mmioOk, "data->mmio_ok", "Unexpected mmio exit");
            TestAssertionFailure.check(mmio.isWrite(), "run->mmio.is_write", "Unexpected mmio read");
            TestAssertionFailure.check(mmio.len() == 8, "run->mmio.len == 8", "Unexpected exit mmio size = %d", mmio.len());
            TestAssertionFailure.check(mmio.physAddr() >= mmioGpaMin && mmio.physAddr() <= mmioGpaMax,
                    "run->mmio.phys_addr >= data->mmio_gpa_min && run->mmio.phys_addr <= data->mmio_gpa_max",
                    "Unexpected exit mmio address = 0x%x", mmio.physAddr());
        }

        void rethrowWorkerFailure() {
            if (failure != null) {
                throw failure;
            }
        }
    }

    /** get_max_slots(): with 4 KiB host and guest pages, the most slots that each get a page. */
    static long getMaxSlots(long mempages, int nslots) {
        for (long slots = nslots - 1L; slots > 1; slots--) {
            if (mempages / slots != 0) {
                return slots + 1; // slot 0 is reserved
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------ test_execute()

    /** test_execute(): null where prepare_vm() or the test's prepare() refused (maxslots says why). */
    private RunResult testExecute(Backend backend, TestData tdata, long[] maxslots, Duration runTimeout) {
        long memSize = tdata.memSize != 0 ? tdata.memSize : MEM_SIZE;
        long mempages = memSize / PAGE_SIZE;
        TestAssertionFailure.check(mempages > 1, "data->npages > 1", "Can't test without any memory");
        // check_slot_pages(): with 4 KiB host and guest pages only an empty slot fails.
        if (mempages / nslots == 0) {
            maxslots[0] = getMaxSlots(mempages, nslots);
            return null;
        }
        Vm vm = backend.createVm(VmShape.of(guestCode(tdata.guest), 1).withExtraMemPages(mempages).withRunTimeout(runTimeout));
        try {
            VmData data = new VmData(vm, nslots, mempages);
            Stats before = vm.stats();
            long slotNs = prepareVm(data);
            if (tdata.moveActive != null && !testMemslotMovePrepare(data, tdata.moveActive)) {
                maxslots[0] = 0;
                return null;
            }
            launchVm(data);
            Host host = vm.host();
            long tstart = host.nanoTime();
            vm.write64(MEM_SYNC_GPA + SYNC_START, 1); // let_guest_run()
            long nloops = 0;
            long guestNs;
            while (true) {
                guestNs = host.nanoTime() - tstart;
                if (guestNs / 1_000_000_000L >= args.seconds()) {
                    break;
                }
                loop(tdata.loop, data);
                nloops++;
            }
            vm.write64(MEM_SYNC_GPA + SYNC_EXIT, 1); // make_guest_exit()
            data.thread.join();
            data.rethrowWorkerFailure();
            addStats(vm.stats().delta(before));
            // one VM per run: keep the first report in which the oracle saw something, else the last
            if (!(backendReport.get("oracle_violations") instanceof Number n && n.longValue() > 0)) {
                backendReport = vm.backendReport();
            }
            return new RunResult(slotNs, guestNs, nloops);
        } finally {
            vm.close();
        }
    }

    /** prepare_vm() after its slot count check: returns the slot setup time. */
    private long prepareVm(VmData data) {
        Vm vm = data.vm;
        long rempages = data.npages % data.nslots;
        infoV("Adding slots 1..%d, each slot with %d pages + %d extra pages last\n", data.nslots, data.pagesPerSlot, rempages);
        long tstart = vm.host().nanoTime();
        long gpa = MEM_GPA;
        for (int slot = 1; slot <= data.nslots; slot++) {
            long npages = data.pagesPerSlot + (slot == data.nslots ? rempages : 0);
            vm.addRegion(BackingSource.ANONYMOUS, gpa, slot, npages, 0);
            gpa += npages * PAGE_SIZE;
        }
        long slotNs = vm.host().nanoTime() - tstart;
        // vm_phy_pages_alloc() of each slot and the memset() that zeroes (and so populates) it.
        gpa = MEM_GPA;
        for (int slot = 1; slot <= data.nslots; slot++) {
            long npages = data.pagesPerSlot + (slot == data.nslots ? rempages : 0);
            vm.fill(gpa, npages * PAGE_SIZE, (byte) 0);
            gpa += npages * PAGE_SIZE;
        }
        vm.virtMap(MEM_GPA, MEM_GPA, data.npages * PAGE_SIZE);
        vm.write64(MEM_SYNC_GPA + SYNC_PAGE_SIZE, PAGE_SIZE);
        vm.write64(MEM_SYNC_GPA + SYNC_START, 0);
        vm.write64(MEM_SYNC_GPA + SYNC_EXIT, 0);
        vm.write64(MEM_SYNC_GPA + SYNC_FLAG, 0);
        data.mmioOk = false;
        return slotNs;
    }

    /** launch_vm() and wait_for_vcpu(). */
    private void launchVm(VmData data) {
        infoV("Launching the test VM\n");
        data.thread = data.vm.host().startGroup("vcpu_worker", 1, i -> data.worker()).get(0);
        boolean posted = data.vcpuReady.timedWait(VCPU_READY_TIMEOUT);
        data.rethrowWorkerFailure();
        TestAssertionFailure.check(posted, "!sem_timedwait(&vcpu_ready, &ts)", "sem_timedwait() failed: %d",
                Errno.ETIMEDOUT.value());
    }

    /** host_perform_sync(): raise sync_flag and busy-wait until the guest clears it, within alarm(10). */
    private static void hostPerformSync(VmData data) {
        Vm vm = data.vm;
        vm.write64(MEM_SYNC_GPA + SYNC_FLAG, 1);
        boolean synced = vm.host().spinUntilGuest(
                () -> data.failure != null || vm.read64(MEM_SYNC_GPA + SYNC_FLAG) == 0, SYNC_TIMEOUT);
        data.rethrowWorkerFailure();
        TestAssertionFailure.check(synced, "!atomic_load(&sync->sync_flag)",
                "host_perform_sync: the guest did not take the sync within %d s (the C test's alarm(%d) kills it with SIGALRM)",
                SYNC_TIMEOUT.toSeconds(), SYNC_TIMEOUT.toSeconds());
    }

    /** test_memslot_move_prepare(). */
    private boolean testMemslotMovePrepare(VmData data, boolean isactive) {
        if (disableSlotZapQuirk) {
            data.vm.enableCap(KvmApi.KVM_CAP_DISABLE_QUIRKS2, KvmApi.KVM_X86_QUIRK_SLOT_ZAP_ALL);
        }
        long movesrcgpa = data.slot2gpa(data.nslots - 1);
        if (isactive) {
            long lastpages = data.remPages(movesrcgpa);
            if (lastpages * PAGE_SIZE < MEM_TEST_MOVE_SIZE / 2) {
                return false;
            }
        }
        long movetestgpa = movesrcgpa - MEM_TEST_MOVE_SIZE / (isactive ? 2 : 1);
        data.vm.write64(MEM_SYNC_GPA + SYNC_MOVE_AREA, movetestgpa);
        if (isactive) {
            data.mmioGpaMin = movesrcgpa;
            data.mmioGpaMax = movesrcgpa + MEM_TEST_MOVE_SIZE / 2 - 1;
            data.mmioOk = true;
        }
        return true;
    }

    private void loop(Loop loop, VmData data) {
        switch (loop) {
            case MAP -> testMemslotMapLoop(data);
            // Guest and host pages are both 4 KiB: one page per MADV_DONTNEED.
            case UNMAP -> testMemslotUnmapLoopCommon(data, 1);
            case UNMAP_CHUNKED -> testMemslotUnmapLoopCommon(data, MEM_TEST_UNMAP_CHUNK_SIZE / PAGE_SIZE);
            case MOVE -> testMemslotMoveLoop(data);
            case RW -> testMemslotRwLoop(data);
        }
    }

    /** test_memslot_move_loop(): the last slot away to MEM_TEST_MOVE_GPA_DEST and back. */
    private static void testMemslotMoveLoop(VmData data) {
        long movesrcgpa = data.slot2gpa(data.nslots - 1);
        data.vm.memRegionMove(data.nslots - 1 + 1, MEM_TEST_MOVE_GPA_DEST);
        data.vm.memRegionMove(data.nslots - 1 + 1, movesrcgpa);
    }

    /** test_memslot_do_unmap(): MADV_DONTNEED of count pages from page offsp of the test area, slot by slot. */
    private static void testMemslotDoUnmap(VmData data, long offsp, long count) {
        long gpa = MEM_TEST_GPA + offsp * PAGE_SIZE;
        long ctr = 0;
        while (ctr < count) {
            long npages = data.remPages(gpa);
            TestAssertionFailure.check(npages != 0, "npages", "Empty memory slot at gptr 0x%x", gpa);
            npages = Math.min(npages, count - ctr);
            data.vm.madviseDontneed(gpa, npages * PAGE_SIZE);
            ctr += npages;
            gpa += npages * PAGE_SIZE;
        }
        TestAssertionFailure.check(ctr == count, "ctr == count",
                "madvise(MADV_DONTNEED) should exactly cover all of the requested area");
    }

    /** test_memslot_map_unmap_check(), with -d. */
    private void testMemslotMapUnmapCheck(VmData data, long offsp, long valexp) {
        if (!mapUnmapVerify) {
            return;
        }
        long gpa = MEM_TEST_GPA + offsp * PAGE_SIZE;
        long val = data.vm.read64(gpa);
        TestAssertionFailure.check(val == valexp, "*val == valexp",
                "Guest written values should read back correctly before unmap (%s vs %s @ %x)",
                Long.toUnsignedString(val), Long.toUnsignedString(valexp), gpa);
        data.vm.write64(gpa, 0);
    }

    /** test_memslot_map_loop(). */
    private void testMemslotMapLoop(VmData data) {
        long guestPages = MEM_TEST_MAP_SIZE / PAGE_SIZE;
        // Unmap the second half while the guest writes (maps) the first half.
        testMemslotDoUnmap(data, guestPages / 2, guestPages / 2);
        // The guest has written the first half: check it and unmap it while the guest maps the second half.
        hostPerformSync(data);
        testMemslotMapUnmapCheck(data, 0, MEM_TEST_VAL_1);
        testMemslotMapUnmapCheck(data, guestPages / 2 - 1, MEM_TEST_VAL_1);
        testMemslotDoUnmap(data, 0, guestPages / 2);
        // The guest has written the second half: check it; it is unmapped at the start of the next iteration.
        hostPerformSync(data);
        testMemslotMapUnmapCheck(data, guestPages / 2, MEM_TEST_VAL_2);
        testMemslotMapUnmapCheck(data, guestPages - 1, MEM_TEST_VAL_2);
    }

    /** test_memslot_unmap_loop_common(). */
    private void testMemslotUnmapLoopCommon(VmData data, long chunk) {
        long guestPages = MEM_TEST_UNMAP_SIZE / PAGE_SIZE;
        hostPerformSync(data);
        testMemslotMapUnmapCheck(data, 0, MEM_TEST_VAL_1);
        for (long ctr = 0; ctr < guestPages / 2; ctr += chunk) {
            testMemslotDoUnmap(data, ctr, chunk);
        }
        hostPerformSync(data);
        testMemslotMapUnmapCheck(data, guestPages / 2, MEM_TEST_VAL_2);
        for (long ctr = guestPages / 2; ctr < guestPages; ctr += chunk) {
            testMemslotDoUnmap(data, ctr, chunk);
        }
    }

    /** test_memslot_rw_loop(). */
    private static void testMemslotRwLoop(VmData data) {
        Vm vm = data.vm;
        for (long gptr = MEM_TEST_GPA + PAGE_SIZE / 2; gptr < MEM_TEST_GPA + MEM_TEST_SIZE; gptr += PAGE_SIZE) {
            vm.write64(gptr, MEM_TEST_VAL_2);
        }
        hostPerformSync(data);
        for (long gptr = MEM_TEST_GPA; gptr < MEM_TEST_GPA + MEM_TEST_SIZE; gptr += PAGE_SIZE) {
            long val = vm.read64(gptr);
            if (val != MEM_TEST_VAL_1) {
                TestAssertionFailure.check(false, "val == MEM_TEST_VAL_1",
                        "Guest written values should read back correctly (is %s @ %x)", Long.toUnsignedString(val), gptr);
            }
            vm.write64(gptr, 0);
        }
        hostPerformSync(data);
    }

    // ------------------------------------------------------------------ the guests

    static GuestProgram guestCode(Guest g) {
        return switch (g) {
            case MAP -> guestCodeTestMemslotMap();
            case UNMAP -> guestCodeTestMemslotUnmap();
            case MOVE -> guestCodeTestMemslotMove();
            case RW -> guestCodeTestMemslotRw();
        };
    }

    /** guest_spin_until_start(). */
    static void guestSpinUntilStart(GuestBuilder g, Reg sync, Reg tmp) {
        Label again = g.label();
        g.bind(again);
        g.load64(tmp, sync, SYNC_START);
        g.branch(Cond.EQ, tmp, 0, again);
    }

    /** guest_perform_sync(): wait for sync_flag and clear it; jump to {@code exit} once exit_flag is set. */
    static void guestPerformSync(GuestBuilder g, Reg sync, Reg tmp, Reg zero, Label exit) {
        Label again = g.label();
        g.bind(again);
        g.load64(tmp, sync, SYNC_EXIT);
        g.branch(Cond.NE, tmp, 0, exit);
        g.load64(tmp, sync, SYNC_FLAG);
        g.branch(Cond.EQ, tmp, 0, again);
        g.store64(sync, SYNC_FLAG, zero);
    }

    /** for (ptr = from; ptr < to; ptr += page_size) *(uint64_t *)ptr = val. */
    static void guestFill(GuestBuilder g, Reg ptr, long from, long to, Reg pageSize, Reg val) {
        g.mov(ptr, from);
        g.whileTrue(Cond.ULT, ptr, to, () -> {
            g.store64(ptr, 0, val);
            g.add(ptr, pageSize);
        });
    }

    /** guest_code_test_memslot_map(). */
    static GuestProgram guestCodeTestMemslotMap() {
        return GuestProgram.define("guest_code_test_memslot_map", g -> {
            Reg sync = g.temp();
            Reg pageSize = g.temp();
            Reg tmp = g.temp();
            Reg zero = g.temp();
            Reg ptr = g.temp();
            Reg val1 = g.temp();
            Reg val2 = g.temp();
            g.mov(sync, MEM_SYNC_GPA);
            g.load64(pageSize, sync, SYNC_PAGE_SIZE);
            g.mov(val1, MEM_TEST_VAL_1);
            g.mov(val2, MEM_TEST_VAL_2);
            g.sync(0);
            guestSpinUntilStart(g, sync, tmp);
            Label exit = g.label();
            g.loop(() -> {
                guestFill(g, ptr, MEM_TEST_GPA, MEM_TEST_GPA + MEM_TEST_MAP_SIZE / 2, pageSize, val1);
                guestPerformSync(g, sync, tmp, zero, exit);
                guestFill(g, ptr, MEM_TEST_GPA + MEM_TEST_MAP_SIZE / 2, MEM_TEST_GPA + MEM_TEST_MAP_SIZE, pageSize, val2);
                guestPerformSync(g, sync, tmp, zero, exit);
            });
            g.bind(exit);
            g.done();
        });
    }

    /** guest_code_test_memslot_unmap(): one page per half and host sync. */
    static GuestProgram guestCodeTestMemslotUnmap() {
        return GuestProgram.define("guest_code_test_memslot_unmap", g -> {
            Reg sync = g.temp();
            Reg tmp = g.temp();
            Reg zero = g.temp();
            Reg ptr = g.temp();
            Reg val1 = g.temp();
            Reg val2 = g.temp();
            g.mov(sync, MEM_SYNC_GPA);
            g.mov(val1, MEM_TEST_VAL_1);
            g.mov(val2, MEM_TEST_VAL_2);
            g.sync(0);
            guestSpinUntilStart(g, sync, tmp);
            Label exit = g.label();
            g.loop(() -> {
                g.mov(ptr, MEM_TEST_GPA);
                g.store64(ptr, 0, val1);
                guestPerformSync(g, sync, tmp, zero, exit);
                g.add(ptr, MEM_TEST_UNMAP_SIZE / 2);
                g.store64(ptr, 0, val2);
                guestPerformSync(g, sync, tmp, zero, exit);
            });
            g.bind(exit);
            g.done();
        });
    }

    /** guest_code_test_memslot_move(): write the move area until told to exit, no host syncs. */
    static GuestProgram guestCodeTestMemslotMove() {
        return GuestProgram.define("guest_code_test_memslot_move", g -> {
            Reg sync = g.temp();
            Reg pageSize = g.temp();
            Reg base = g.temp();
            Reg end = g.temp();
            Reg tmp = g.temp();
            Reg ptr = g.temp();
            Reg val1 = g.temp();
            g.mov(sync, MEM_SYNC_GPA);
            g.load64(pageSize, sync, SYNC_PAGE_SIZE);
            g.load64(base, sync, SYNC_MOVE_AREA);
            g.mov(end, base);
            g.add(end, MEM_TEST_MOVE_SIZE);
            g.mov(val1, MEM_TEST_VAL_1);
            g.sync(0);
            guestSpinUntilStart(g, sync, tmp);
            Label exit = g.label();
            g.loop(() -> {
                g.load64(tmp, sync, SYNC_EXIT);
                g.branch(Cond.NE, tmp, 0, exit);
                g.mov(ptr, base);
                g.whileTrue(Cond.ULT, ptr, end, () -> {
                    g.store64(ptr, 0, val1);
                    g.add(ptr, pageSize);
                });
            });
            g.bind(exit);
            g.done();
        });
    }

    /** guest_code_test_memslot_rw(). */
    static GuestProgram guestCodeTestMemslotRw() {
        return GuestProgram.define("guest_code_test_memslot_rw", g -> {
            Reg sync = g.temp();
            Reg pageSize = g.temp();
            Reg tmp = g.temp();
            Reg zero = g.temp();
            Reg ptr = g.temp();
            Reg val1 = g.temp();
            Reg val2 = g.temp();
            g.mov(sync, MEM_SYNC_GPA);
            g.load64(pageSize, sync, SYNC_PAGE_SIZE);
            g.mov(val1, MEM_TEST_VAL_1);
            g.mov(val2, MEM_TEST_VAL_2);
            g.sync(0);
            guestSpinUntilStart(g, sync, tmp);
            Label exit = g.label();
            g.loop(() -> {
                guestFill(g, ptr, MEM_TEST_GPA, MEM_TEST_GPA + MEM_TEST_SIZE, pageSize, val1);
                guestPerformSync(g, sync, tmp, zero, exit);
                g.mov(ptr, MEM_TEST_GPA + PAGE_SIZE / 2);
                g.whileTrue(Cond.ULT, ptr, MEM_TEST_GPA + MEM_TEST_SIZE, () -> {
                    g.load64(tmp, ptr, 0);
                    g.guestAssert(Cond.EQ, tmp, val2, "val == MEM_TEST_VAL_2 failed: val is 0x%lx", tmp);
                    g.store64(ptr, 0, zero);
                    g.add(ptr, pageSize);
                });
                guestPerformSync(g, sync, tmp, zero, exit);
            });
            g.bind(exit);
            g.done();
        });
    }

    // ------------------------------------------------------------------ stats

    /** The stats deltas of every test VM, summed. */
    private void addStats(Stats.Delta d) {
        if (stats == null) {
            stats = d;
            return;
        }
        stats = new Stats.Delta(sum(stats.vm(), d.vm()), sum(stats.vcpuTotal(), d.vcpuTotal()), List.of());
    }

    private static Map<String, long[]> sum(Map<String, long[]> a, Map<String, long[]> b) {
        Map<String, long[]> out = new LinkedHashMap<>();
        a.forEach((k, v) -> out.put(k, v.clone()));
        b.forEach((k, v) -> out.merge(k, v.clone(), (x, y) -> {
            long[] s = x.clone();
            for (int i = 0; i < Math.min(x.length, y.length); i++) {
                s[i] += y[i];
            }
            return s;
        }));
        return out;
    }
}
