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
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuArgs;
import dev.kvmharness.kvm.bindings.KvmApi;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLongArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Port of tools/testing/selftests/kvm/memslot_modification_stress_test.c (6.12): memstress vCPUs read and write
 * their memory in an endless loop while the main thread adds a one-page memslot just below the test memory and
 * deletes it again, {@code -i} times with {@code -d} microseconds before each add. Every DELETE makes KVM drop
 * the slot's translations while the vCPUs fault on theirs: with the slot-zap quirk (the default) the whole MMU
 * is zapped, with {@code -q} (KVM_X86_QUIRK_SLOT_ZAP_ALL disabled) only the deleted slot's range.
 *
 * <p>Upstream since 6.12 the file only gained an explicit {@code ucall_common.h} include and swapped
 * {@code uint64_t} for the kernel's {@code u64}/{@code gpa_t}; {@code -q} and its {@code __x86_64__} guard are
 * already 6.12's. Neither changes behaviour, so this port follows 6.12 as is. The C test prints no timings; the
 * port's --json adds the phases (the add/delete loop, the join that waits for the vCPUs' last pass) and the guest
 * passes the vCPUs made. As in C, the guest never touches the dummy slot: the test stresses the update path's
 * effect on the vCPUs' own memory (the fast zap of every root, slot bookkeeping), not the zap of the deleted range.
 */
@Command(name = "memslot_modification_stress_test", sortOptions = false,
        customSynopsis = "memslot_modification_stress_test [-h] [-m mode] [-d delay_usec] [-q]\n"
                + "          [-b memory] [-v vcpus] [-o] [-i iterations]",
        description = "KVM memslot modification stress test: vCPUs access their memory while the host adds and"
                + " deletes a memslot.")
public final class MemslotModificationStressTest implements Callable<Integer>, Port {
    /** DUMMY_MEMSLOT_INDEX: the slot added and deleted. */
    static final int DUMMY_MEMSLOT_INDEX = 7;
    /** DEFAULT_MEMSLOT_MODIFICATION_ITERATIONS. */
    static final int DEFAULT_ITERATIONS = 10;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "-m", paramLabel = "mode", description = "Guest mode ID to test (x86-64: 9 = PA-bits:ANY, VA-bits:48,"
            + "  4K pages). May be used multiple times.")
    List<String> modes = new ArrayList<>();

    @Option(names = "-d", paramLabel = "delay_usec", description = "Add a delay between each iteration of adding and"
            + " deleting a memslot in usec.")
    String delayArg;

    @Option(names = "-q", description = "Disable memslot zap quirk.")
    boolean disableSlotZapQuirk;

    @Option(names = "-b", paramLabel = "memory", description = "Specify the size of the memory region which should be"
            + " accessed by each vCPU. e.g. 10M or 3G. Default: 1G")
    String memory;

    @Option(names = "-v", paramLabel = "vcpus", description = "Specify the number of vCPUs to run.")
    String vcpus;

    @Option(names = "-o", description = "Overlap guest memory accesses instead of partitioning them into a separate"
            + " region of memory for each vCPU.")
    boolean overlap;

    @Option(names = "-i", paramLabel = "iterations", description = "Specify the number of iterations of adding and"
            + " removing a memslot. Default: 10")
    String iterationsArg;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    private Params params;

    /** struct test_params plus the globals main() sets. */
    record Params(List<GuestMode> modes, long delayUs, int iterations, boolean partition, boolean disableSlotZapQuirk,
                  int nrVcpus, long guestPercpuMemSize) {
    }

    /** What run_test() measured, in ns (virtual on the simulator). */
    record Outcome(long addRemoveNs, long joinNs, long guestPasses, Stats.Delta stats,
                   Map<String, Object> backendReport) {
    }

    @Override
    public String name() {
        return "memslot_modification_stress_test";
    }

    @Override
    public void validate() {
        params = parse();
    }

    /** main()'s option loop; a bad value is a usage error here instead of an assertion at run time. */
    Params parse() {
        List<GuestMode> m = GuestMode.fromCmdline(modes);
        long delay = delayArg == null ? 0 : TestUtil.atoiNonNegative("Delay", delayArg);
        long size = memory == null ? Memstress.DEFAULT_PER_VCPU_MEM_SIZE : DemandPagingTest.parseMemory(memory, m);
        int n = vcpus == null ? 1 : TestUtil.atoiPositive("Number of vCPUs", vcpus);
        int iterations = iterationsArg == null ? DEFAULT_ITERATIONS : TestUtil.atoiPositive("Number of iterations", iterationsArg);
        if (size > Long.MAX_VALUE / n) {
            throw new IllegalArgumentException("-v " + n + " x -b " + Usage.size(size) + " overflows 64 bits");
        }
        return new Params(m, delay, iterations, !overlap, disableSlotZapQuirk, n, size);
    }

    /** KVM_CAP_MAX_VCPUS and the guest's address space, checked before anything runs. */
    @Override
    public void validate(Backend backend) {
        MemstressLimits.check(backend, params.nrVcpus(), params.guestPercpuMemSize(), params.modes());
    }

    @Override
    public Integer call() {
        return TestMain.run(this, common, spec.commandLine());
    }

    /** main() after option parsing: -q's TEST_REQUIRE, then run_test() per guest mode. */
    @Override
    public Result execute(Backend backend, long seed) {
        Params p = params;
        if (p.disableSlotZapQuirk()) {
            TestSkipped.require((backend.checkCap(KvmApi.KVM_CAP_DISABLE_QUIRKS2) & KvmApi.KVM_X86_QUIRK_SLOT_ZAP_ALL) != 0,
                    "- Requirement not met: kvm_check_cap(KVM_CAP_DISABLE_QUIRKS2) & KVM_X86_QUIRK_SLOT_ZAP_ALL");
        }
        Outcome last = null;
        for (GuestMode mode : p.modes()) {
            last = runTest(backend, mode, p, seed, Duration.ofSeconds(common.runTimeoutSeconds));
        }
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("add_remove_memslot_ns", last.addRemoveNs());
        timings.put("add_remove_memslot_avg_ns", last.addRemoveNs() / p.iterations());
        timings.put("join_vcpus_ns", last.joinNs());
        Map<String, Object> rates = new LinkedHashMap<>();
        rates.put("memslot_modifications", p.iterations());
        rates.put("guest_passes", last.guestPasses());
        return new Result(timings, rates, Map.of(), last.stats(), last.backendReport());
    }

    /** run_test(). */
    static Outcome runTest(Backend backend, GuestMode mode, Params p, long seed, Duration runTimeout) {
        Memstress.Options opts = new Memstress.Options(100, false, seed, runTimeout);
        try (Memstress ms = Memstress.createVm(backend, mode, p.nrVcpus(), p.guestPercpuMemSize(), 1, BackingSource.ANONYMOUS,
                p.partition(), opts)) {
            Vm vm = ms.vm();
            Host host = vm.host();
            if (p.disableSlotZapQuirk()) {
                vm.enableCap(KvmApi.KVM_CAP_DISABLE_QUIRKS2, KvmApi.KVM_X86_QUIRK_SLOT_ZAP_ALL);
            }
            GuestLog.info("Memslot zap quirk %s\n", p.disableSlotZapQuirk() ? "disabled" : "enabled");
            GuestLog.info("Finished creating vCPUs\n");

            Stats before = vm.stats();
            AtomicLongArray passes = new AtomicLongArray(p.nrVcpus());
            ms.startVcpuThreads(null, a -> vcpuWorker(a, ms, passes));
            long start;
            GuestLog.info("Started all vCPUs\n");

            long addRemoveNs;
            try {
                start = host.nanoTime();
                addRemoveMemslot(ms, p.delayUs(), p.iterations());
                addRemoveNs = host.nanoTime() - start;
            } catch (RuntimeException | Error e) {
                try {
                    ms.joinVcpuThreads();
                } catch (RuntimeException | Error vcpuFailure) {
                    if (vcpuFailure != e) {
                        e.addSuppressed(vcpuFailure);
                    }
                }
                throw e;
            }

            start = host.nanoTime();
            ms.joinVcpuThreads();
            long joinNs = host.nanoTime() - start;
            GuestLog.info("All vCPU threads joined\n");
            Stats.Delta delta = vm.stats().delta(before);
            long total = 0;
            for (int i = 0; i < passes.length(); i++) {
                total += passes.get(i);
            }
            return new Outcome(addRemoveNs, joinNs, total, delta, vm.backendReport());
        }
    }

    /** add_remove_memslot(): the dummy slot sits one host page below the memstress slot, at the top of the guest's memory. */
    static void addRemoveMemslot(Memstress ms, long delayUs, int nrModifications) {
        Vm vm = ms.vm();
        long pageSize = ms.guestPageSize();
        long pages = Math.max(pageSize, DemandPagingTest.HOST_PAGE_SIZE) / pageSize;
        long gpa = ms.gpa() - pages * pageSize;
        for (int i = 0; i < nrModifications; i++) {
            vm.host().sleepMicros(delayUs);
            vm.addRegion(BackingSource.ANONYMOUS, gpa, DUMMY_MEMSLOT_INDEX, pages, 0);
            vm.memRegionDelete(DUMMY_MEMSLOT_INDEX);
        }
    }

    /** vcpu_worker(): run the guest's passes until the test stops the vCPUs; every exit must be its GUEST_SYNC. */
    static void vcpuWorker(VcpuArgs args, Memstress ms, AtomicLongArray passes) {
        Vcpu vcpu = args.vcpu();
        while (!ms.stopVcpus()) {
            int ret = vcpu.tryRun();
            TestAssertionFailure.check(ret == 0, "ret == 0", "vcpu_run failed: %d", ret);
            Ucall uc = vcpu.ucall();
            if (uc.kind() == Ucall.Kind.ABORT) {
                throw TestAssertionFailure.guestAssert(uc);
            }
            TestAssertionFailure.check(uc.kind() == Ucall.Kind.SYNC, "false", "Invalid guest sync status: exit_reason=%s\n",
                    vcpu.lastExit() == null ? "none" : vcpu.lastExit().name());
            passes.incrementAndGet(args.vcpuIdx());
        }
    }

    @Override
    public Map<String, Object> options() {
        Params p = params;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("guest_modes", p.modes().stream().map(GuestMode::name).toList());
        m.put("delay_us", p.delayUs());
        m.put("iterations", p.iterations());
        m.put("partition_vcpu_memory_access", p.partition());
        m.put("disable_slot_zap_quirk", p.disableSlotZapQuirk());
        m.put("vcpus", p.nrVcpus());
        m.put("guest_percpu_mem_size", p.guestPercpuMemSize());
        return m;
    }
}
