// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.HostBuffer;
import dev.kvmharness.harness.HostPages;
import dev.kvmharness.harness.Sregs;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.TestUtil;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.sim.SimOptions;
import dev.kvmharness.harness.x86.PageSize;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.sys.Sys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Port of tools/testing/selftests/kvm/max_guest_memory_test.c (6.12) and, as {@link MmuStress}, of its
 * successor mmu_stress_test.c (6.14 on): every memslot from 4 GiB up aliases one memfd, the guest identity
 * maps them all, and the vCPUs store each page's address into their chunk, with an MMU context reset (a
 * CR0.WP toggle) between two runs; mmu_stress_test adds a read pass, writes under mprotect(PROT_READ) that
 * KVM_RUN must fail with EFAULT, and writes after mprotect back. Then the even slots are deleted, the first
 * half of the backing is unmapped, and the process "exits" without cleanup. Beyond the C lines, {@code --json} has a
 * {@code teardown} section saying what that step did (slots deleted, bytes unmapped, what the MMU zapped, which
 * sampled pages of the backing are still mapped), so that a port skipping it would show.
 *
 * <p>Unlike the C test, which maps the guest with 1 GiB pages and dies where the vCPU has none, the port maps
 * with the largest page the vCPU's CPUID offers and says which.
 */
@Command(name = "max_guest_memory_test", sortOptions = false,
        customSynopsis = "max_guest_memory_test [-c nr_vcpus] [-m max_mem_in_gb] [-s slot_size_in_gb] [-H]",
        description = "KVM max guest memory test: as many memslots as fit, all aliasing one memfd, written by every vCPU.")
public class MaxGuestMemoryTest implements Callable<Integer>, Port {
    /** SZ_4G: the slots start here, clear of slot 0 and the APIC access page's internal slot below 4 GiB. */
    static final long START_GPA = 1L << 32;
    static final int FIRST_SLOT = 1;
    static final long SZ_1G = 1L << 30;
    /** 4 PiB: the most guest physical memory there is on x86 (MAXPHYADDR 52). */
    static final long MAX_GUEST_MEMORY = 1L << 52;
    /** The store stage 3 steps over on EFAULT: {@code mov %rax,(%rax)} in C, here a store of RBX to (RBX). */
    static final int STORE_INSN_LENGTH = 3;

    @Option(names = "-c", paramLabel = "nr_vcpus", description = "Number of vCPUs (default: 3/4 of the CPUs this task may run on).")
    String nrVcpusArg;

    @Option(names = "-m", paramLabel = "max_mem_in_gb", description = "Most guest memory to create, in GiB (default 128).")
    String maxMemArg;

    @Option(names = "-s", paramLabel = "slot_size_in_gb", description = "Size of each memslot (and of the shared memfd), in GiB (default 2).")
    String slotSizeArg;

    @Option(names = "-H", description = "Back the memfd with hugetlbfs pages.")
    boolean hugepages;

    /** getopt's "h:" in the C test: -h takes an argument (a quirk kept here); either way it prints the usage. */
    @Option(names = "-h", paramLabel = "arg", description = "Print the usage line and exit (as in C, -h takes an argument).")
    String hArg;

    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--maxphyaddr", paramLabel = "46|52",
            description = "Simulator only: the CPU's MAXPHYADDR; 52 means 5-level EPT, a 4 PiB guest-physical space "
                    + "and a 5-level (LA57) guest. Default: the simulator's 48.")
    Integer maxPhyAddr;

    @Option(names = "--stride", paramLabel = "SIZE",
            description = "Simulator only: the guest stores one word per SIZE bytes (and the host pre-faults one byte per SIZE) "
                    + "instead of one per 4 KiB page. Faithful while SIZE is at most the smallest mapping, host folio and "
                    + "SPTE alike (e.g. with -H and 1G huge pages, up to 1G): the MMU's cost is per mapping, not per byte, "
                    + "so every mapping is still faulted, reset and zapped. Beyond that whole mappings are skipped.")
    String strideArg;

    @Option(names = "--hugepage-size", paramLabel = "2M|1G",
            description = "Simulator only: the huge page size of the -H memfd (MFD_HUGETLB's default on x86 is 2M).")
    String hugepageSizeArg;

    /** GNU getopt leaves non-option arguments at the end of argv, and the C test never reads them. */
    @picocli.CommandLine.Parameters(hidden = true)
    List<String> ignoredOperands = new ArrayList<>();

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    private final boolean stress;
    private Params params;

    public MaxGuestMemoryTest() {
        this(false);
    }

    MaxGuestMemoryTest(boolean stress) {
        this.stress = stress;
    }

    /** mmu_stress_test.c: the same test with the read, read-only and read-write stages. */
    @Command(name = "mmu_stress_test", sortOptions = false,
            customSynopsis = "mmu_stress_test [-c nr_vcpus] [-m max_mem_in_gb] [-s slot_size_in_gb] [-H]",
            description = "KVM MMU stress test: max_guest_memory_test plus reads, EFAULT on writes under mprotect(PROT_READ), "
                    + "and writes after mprotect back.")
    public static final class MmuStress extends MaxGuestMemoryTest {
        public MmuStress() {
            super(true);
        }
    }

    /** The options, resolved. */
    record Params(int nrVcpus, long maxMem, long slotSize, boolean hugepages, Integer maxPhyAddr, Long stride,
                  long hugepageSize) {
    }

    @Override
    public String name() {
        return stress ? "mmu_stress_test" : "max_guest_memory_test";
    }

    @Override
    public void validate() {
        int n = nrVcpusArg != null ? TestUtil.atoiPositive("Number of vCPUs", nrVcpusArg) : defaultNrVcpus();
        long maxMem = maxMemArg != null ? TestUtil.atoiPositive("Memory size", maxMemArg) * SZ_1G : 128 * SZ_1G;
        if (maxMem > MAX_GUEST_MEMORY) {
            // Slot 0 reserves a page-table page per GiB asked for: an -m far past any guest would outgrow it.
            throw new IllegalArgumentException("-m " + maxMemArg + " is more than an x86 guest can address: at most "
                    + MAX_GUEST_MEMORY / SZ_1G + " (4 PiB, MAXPHYADDR 52)");
        }
        long slotSize = slotSizeArg != null ? TestUtil.atoiPositive("Slot size", slotSizeArg) * SZ_1G : 2 * SZ_1G;
        boolean sim = !"kvm".equals(common.backend);
        if (maxPhyAddr != null && (maxPhyAddr != 46 && maxPhyAddr != 52)) {
            throw new IllegalArgumentException("--maxphyaddr must be 46 or 52");
        }
        Long stride = null;
        if (strideArg != null) {
            stride = TestUtil.parseSize(strideArg);
            if (stride < 8 || Long.bitCount(stride) != 1) {
                throw new IllegalArgumentException("--stride must be a power of two of at least 8 bytes");
            }
        }
        long hp = SimOptions.DEFAULT_HUGETLB_PAGE_SIZE;
        if (hugepageSizeArg != null) {
            hp = TestUtil.parseSize(hugepageSizeArg);
            if (hp != 1L << 21 && hp != 1L << 30) {
                throw new IllegalArgumentException("--hugepage-size must be 2M or 1G");
            }
        }
        if (!sim && (maxPhyAddr != null || stride != null || hugepageSizeArg != null)) {
            throw new IllegalArgumentException("--maxphyaddr, --stride and --hugepage-size are simulator-only options");
        }
        params = new Params(n, maxMem, slotSize, hugepages, maxPhyAddr, stride, hp);
    }

    /**
     * The C test's checks against the host, as usage errors: vm_create_with_vcpus() asserts -c against
     * KVM_CAP_MAX_VCPUS, and main() wants four slots of -s below the top of guest physical memory.
     */
    @Override
    public void validate(Backend backend) {
        int maxVcpus = backend.checkCap(KvmApi.KVM_CAP_MAX_VCPUS);
        if (params.nrVcpus() > maxVcpus) {
            throw new IllegalArgumentException("-c " + params.nrVcpus() + " is more vCPUs than the " + backend.name()
                    + " backend allows: at most " + maxVcpus + " (KVM_CAP_MAX_VCPUS)");
        }
        long maxGpa = backend.caps().maxGfn(4096) << 12; // max_gpa = vm->max_gfn << vm->page_shift, 4K pages
        if (maxGpa <= 4 * params.slotSize()) {
            throw new IllegalArgumentException("-s " + params.slotSize() / SZ_1G + " is too large for the " + backend.name()
                    + " backend: four slots must fit below the top of guest physical memory (0x" + Long.toHexString(maxGpa)
                    + "), so -s is at most " + (maxGpa / 4 - 1) / SZ_1G);
        }
    }

    /** calc_default_nr_vcpus(): 3/4 of the CPUs in the affinity mask, which must be at least one. */
    static int defaultNrVcpus() {
        int n = Sys.affinity().cardinality() * 3 / 4;
        TestAssertionFailure.check(n > 0, "nr_vcpus > 0", "Uh, no CPUs?");
        return n;
    }

    @Override
    public SimOptions simOptions(SimOptions base) {
        SimOptions o = base;
        if (params.maxPhyAddr() != null) {
            o = o.withConfig(o.config().withPhysBits(params.maxPhyAddr()));
        }
        return o.withHugetlbPageSize(params.hugepageSize());
    }

    /** -h: the C usage line, then exit 0 (the C test exits 1; here only errors exit non-zero). */
    @Override
    public Integer call() {
        if (hArg != null) {
            spec.commandLine().getOut().println("usage: " + spec.usageMessage().customSynopsis()[0]);
            return 0;
        }
        return TestMain.run(this, common, spec.commandLine());
    }

    // ---------------------------------------------------------------- the guest

    /** guest_code() of max_guest_memory_test.c: forever, store every page's address into it, then sync. */
    static final GuestProgram MAX_GUEST_MEMORY_GUEST = GuestProgram.define("max_guest_memory_guest", g -> {
        var start = g.arg(0);
        var end = g.arg(1);
        var stride = g.arg(2);
        var gpa = g.arg(5);
        g.loop(() -> {
            writePass(g, start, end, stride, gpa);
            g.sync(0);
        });
    });

    /**
     * guest_code() of mmu_stress_test.c: two write passes, a read pass, writes until the host says the memory
     * is read-only (every one of them an EFAULT the host steps over), then one more write pass.
     * Argument 3 is the gva of mprotect_ro_done.
     */
    static final GuestProgram MMU_STRESS_GUEST = GuestProgram.define("mmu_stress_guest", g -> {
        var start = g.arg(0);
        var end = g.arg(1);
        var stride = g.arg(2);
        var roDone = g.arg(3);
        // RBX: a store of RBX to (RBX) is 48 89 1b, three bytes like the C test's hand-coded mov %rax,(%rax).
        var gpa = g.arg(5);
        var t = g.temp();
        for (int i = 0; i < 2; i++) {
            writePass(g, start, end, stride, gpa);
            g.sync(i);
        }
        g.mov(gpa, start);
        g.whileTrue(Cond.ULT, gpa, end, () -> {
            g.load64(t, gpa, 0);
            g.add(gpa, stride);
        });
        g.sync(2);
        var again = g.label();
        g.bind(again);
        writePass(g, start, end, stride, gpa);
        g.load64(t, roDone, 0);
        g.branch(Cond.EQ, t, 0, again);
        g.sync(3);
        writePass(g, start, end, stride, gpa);
        g.sync(4);
        g.fail("");
    });

    /** for (gpa = start_gpa; gpa < end_gpa; gpa += stride) *(volatile uint64_t *)gpa = gpa; */
    private static void writePass(GuestBuilder g, Reg start,
                                  Reg end, Reg stride,
                                  Reg gpa) {
        g.mov(gpa, start);
        g.whileTrue(Cond.ULT, gpa, end, () -> {
            g.store64(gpa, 0, gpa);
            g.add(gpa, stride);
        });
    }

    // ---------------------------------------------------------------- the rendezvous

    /**
     * The C test's atomic rendezvous: positive while the boss waits for the vCPUs to count it down to 1, negative
     * while they count up to -1; the boss flips the sign to release them. A failed vCPU thread stops the boss's
     * wait instead of leaving it spinning (in C the assertion would have killed the process).
     */
    static final class Rendezvous {
        final AtomicInteger value = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Host host;
        private final int nrVcpus;

        Rendezvous(Host host, int nrVcpus) {
            this.host = host;
            this.nrVcpus = nrVcpus;
            value.set(nrVcpus + 1);
        }

        /** rendezvous_with_boss(). */
        void withBoss() {
            int orig = value.get();
            if (orig > 0) {
                value.decrementAndGet();
                while (value.get() > 0) {
                    host.cpuRelax();
                }
            } else {
                value.incrementAndGet();
                while (value.get() < 0) {
                    host.cpuRelax();
                }
            }
        }

        /** rendezvous_with_vcpus(): waits, prints the progress lines, returns the time, releases the vCPUs. */
        long withVcpus(String name) {
            GuestLog.info("Waiting for vCPUs to finish %s...\n", name);
            int r = value.get();
            for (int i = 0; Math.abs(r) != 1; i++) {
                Throwable f = failure.get();
                if (f != null) {
                    throw f instanceof RuntimeException re ? re : new TestAssertionFailure("vCPU thread failed", f.toString(), f);
                }
                host.sleepMicros(100);
                if ((i & 0x3f) == 0) {
                    GuestLog.info("\r%d vCPUs haven't rendezvoused...", Math.abs(r) - 1);
                }
                r = value.get();
            }
            long t = host.nanoTime();
            GuestLog.info("\rAll vCPUs finished %s, releasing...\n", name);
            value.set(r > 0 ? -nrVcpus - 1 : nrVcpus + 1);
            return t;
        }
    }

    // ---------------------------------------------------------------- main()

    @Override
    public Result execute(Backend backend, long seed) {
        Params p = params;
        int maxSlots = backend.caps().nrMemslots();
        TestAssertionFailure.check(maxSlots > FIRST_SLOT, "max_slots > first_slot", "KVM is broken");
        PageSize mapWith = backend.caps().gbPages() ? PageSize.SIZE_1G : PageSize.SIZE_2M;
        boolean la57 = "sim".equals(backend.name()) && p.maxPhyAddr() != null && p.maxPhyAddr() > 48;
        GuestMode mode = la57 ? GuestMode.PXXV57_4K : GuestMode.PXXV48_4K;
        GuestProgram program = stress ? MMU_STRESS_GUEST : MAX_GUEST_MEMORY_GUEST;
        // As mmu_stress_test: one extra slot-0 page per GiB of guest memory for the page tables.
        Vm vm = backend.createVm(VmShape.of(program, p.nrVcpus()).withMode(mode)
                .withExtraMemPages(p.maxMem() / mapWith.bytes()).withRunTimeout(Duration.ofSeconds(common.runTimeoutSeconds)));
        GuestLog.info("Guest memory identity mapped with %s pages, the largest the vCPU's CPUID offers%s%s\n",
                mapWith == PageSize.SIZE_1G ? "1G" : "2M",
                mapWith == PageSize.SIZE_1G ? "" : " (no 1G pages: CPUID 0x80000001 EDX bit 26 is clear)",
                la57 ? "; 5-level guest paging" : "");
        long pageSize = vm.mode().pageSize();
        long stride = p.stride() != null ? p.stride() : pageSize;

        long maxGpa = vm.maxGfn() << 12;
        TestAssertionFailure.check(maxGpa > 4 * p.slotSize(), "max_gpa > (4 * slot_size)", "MAXPHYADDR <4gb ");

        HostBuffer mem = vm.memfdAlloc(p.slotSize(), p.hugepages());
        mem.madviseNoHugepage();
        // Pre-fault the memory to avoid taking mmap_sem on guest page faults.
        for (long i = 0; i < p.slotSize(); i += stride) {
            mem.write8(i, (byte) 0xaa);
        }

        long gpa = 0;
        int slot;
        for (slot = FIRST_SLOT; slot < maxSlots; slot++) {
            gpa = START_GPA + (slot - FIRST_SLOT) * p.slotSize();
            if (gpa + p.slotSize() > maxGpa) {
                break;
            }
            if (gpa - START_GPA >= p.maxMem()) {
                break;
            }
            vm.setUserMemoryRegion(slot, 0, gpa, p.slotSize(), mem.hva());
            vm.virtMap(gpa, gpa, p.slotSize(), mapWith);
        }

        long roDoneGva = 0;
        if (stress) {
            roDoneGva = vm.vaddrAlloc(8);
        }
        Host host = vm.host();
        Rendezvous rv = new Rendezvous(host, p.nrVcpus());
        long endGpa = gpa;
        long nrBytes = ((endGpa - START_GPA) / p.nrVcpus()) & -pageSize;
        TestAssertionFailure.check(nrBytes != 0, "nr_bytes", "C'mon, no way you have %d CPUs", p.nrVcpus());
        Stats before = vm.stats();
        final long flag = roDoneGva;
        List<Host.HostThread> threads = host.startGroup("vcpu", p.nrVcpus(), i -> {
            try {
                long start = START_GPA + i * nrBytes;
                vcpuWorker(vm.vcpu(i), rv, start, start + nrBytes, stride, flag);
            } catch (RuntimeException | Error e) {
                rv.failure.compareAndSet(null, e);
                throw e;
            }
        });

        GuestLog.info("Running with %dgb of guest memory and %d vCPUs\n", (endGpa - START_GPA) / SZ_1G, p.nrVcpus());

        long tStart = rv.withVcpus("spawning");
        long tRun1 = rv.withVcpus("run 1");
        long tReset = rv.withVcpus("reset");
        long tRun2 = rv.withVcpus("run 2");
        long tRo = 0;
        long tRw = 0;
        if (stress) {
            mem.mprotect(0, p.slotSize(), false);
            host.sleepMicros(10);
            // mprotect_ro_done = true; sync_global_to_guest(vm, mprotect_ro_done);
            vm.write64(roDoneGva, 1);
            tRo = rv.withVcpus("mprotect RO");
            mem.mprotect(0, p.slotSize(), true);
            tRw = rv.withVcpus("mprotect RW");
        }
        Stats.Delta delta = vm.stats().delta(before);
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("run1_ns", tRun1 - tStart);
        timings.put("reset_ns", tReset - tRun1);
        timings.put("run2_ns", tRun2 - tReset);
        if (stress) {
            timings.put("ro_ns", tRo - tRun2);
            timings.put("rw_ns", tRw - tRo);
            GuestLog.info("run1 = %s, reset = %s, run2 = %s, ro = %s, rw = %s\n", ts(tRun1 - tStart), ts(tReset - tRun1),
                    ts(tRun2 - tReset), ts(tRo - tRun2), ts(tRw - tRo));
        } else {
            // 6.12's format, with its two spaces before the run2 value.
            GuestLog.info("run1 = %s, reset = %s, run2 =  %s\n", ts(tRun1 - tStart), ts(tReset - tRun1), ts(tRun2 - tReset));
        }

        // Delete even numbered slots (arbitrary) and unmap the first half of the backing (also arbitrary) to
        // verify KVM correctly drops all references to the removed regions.
        // Not in C: what the step did, for the JSON report's "teardown" (the MMU's stats around each half, and
        // which sampled pages of the backing the host still maps).
        int lastSlot = slot;
        PagemapSample present = PagemapSample.of(vm, mem, stride);
        Stats beforeDelete = vm.stats();
        int deleted = 0;
        for (slot = (slot - 1) & ~1; slot >= FIRST_SLOT; slot -= 2) {
            vm.setUserMemoryRegion(slot, 0, 0, 0, 0);
            deleted++;
        }
        Stats afterDelete = vm.stats();
        mem.munmap(0, p.slotSize() / 2);
        Stats afterMunmap = vm.stats();
        Map<String, Object> teardown = teardownReport(deleted, lastSlot - FIRST_SLOT - deleted, p.slotSize() / 2,
                beforeDelete, afterDelete, afterMunmap, present, PagemapSample.of(vm, mem, stride));

        // Sanity check that the vCPUs actually ran.
        for (Host.HostThread t : threads) {
            t.join();
        }
        Map<String, Object> report = new LinkedHashMap<>(vm.backendReport());
        // Deliberately exit without deleting the remaining memslots or closing the VM, to test cleanup via
        // mmu_notifier release.
        vm.exitWithoutCleanup();

        Map<String, Object> rates = new LinkedHashMap<>();
        rates.put("guest_memory_bytes", endGpa - START_GPA);
        rates.put("memslots", lastSlot - FIRST_SLOT);
        rates.put("guest_page_size", mapWith.bytes());
        rates.put("stride", stride);
        return new Result(timings, rates, Map.of(), delta, report, Map.of("teardown", teardown));
    }

    /** The VM stats whose change the teardown reports: the MMU's leaf SPTEs by size, its zaps and flushes. */
    static final List<String> TEARDOWN_STATS = List.of("pages_4k", "pages_2m", "pages_1g", "mmu_shadow_zapped",
            "remote_tlb_flush", "remote_tlb_flush_requests");

    /**
     * What the step after run 2 did: the slots deleted and kept, the bytes (and 4K host pages) unmapped, the
     * change of {@link #TEARDOWN_STATS} across the deletion and across the munmap (after − before, instant stats
     * included: a negative pages_4k is 4K SPTEs zapped), and how many sampled host pages of each half of the
     * backing pagemap shows present before the deletion and after the munmap.
     */
    private static Map<String, Object> teardownReport(int deleted, int kept, long unmapped, Stats beforeDelete,
                                                      Stats afterDelete, Stats afterMunmap, PagemapSample before,
                                                      PagemapSample after) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("slots_deleted", deleted);
        m.put("slots_kept", kept);
        m.put("bytes_unmapped", unmapped);
        m.put("pages_unmapped", unmapped / HostPages.PAGE_SIZE);
        m.put("delete_stats", statChanges(beforeDelete, afterDelete));
        m.put("munmap_stats", statChanges(afterDelete, afterMunmap));
        m.put("pagemap_sample_step", before.step());
        m.put("unmapped_half", presence(before.sampledLow(), before.presentLow(), after.presentLow()));
        m.put("kept_half", presence(before.sampledHigh(), before.presentHigh(), after.presentHigh()));
        return m;
    }

    private static Map<String, Object> presence(int sampled, int presentBefore, int presentAfter) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sampled", sampled);
        m.put("present_before", presentBefore);
        m.put("present_after", presentAfter);
        return m;
    }

    private static Map<String, Object> statChanges(Stats before, Stats after) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String name : TEARDOWN_STATS) {
            long[] b = before.vm().get(name);
            long[] a = after.vm().get(name);
            if (a != null && b != null && a.length > 0 && b.length > 0) {
                m.put(name, a[0] - b[0]);
            }
        }
        return m;
    }

    /**
     * Which host pages of the memfd mapping pagemap shows present, sampled at most {@link #MAX_SAMPLES} times at
     * a multiple of the pre-fault stride (so every sampled page was pre-faulted), split at the half the test
     * unmaps.
     */
    record PagemapSample(long step, int sampledLow, int presentLow, int sampledHigh, int presentHigh) {
        static final int MAX_SAMPLES = 512;

        static PagemapSample of(Vm vm, HostBuffer mem, long stride) {
            HostPages pages = vm.hostPages();
            long step = stride * Math.max(1, mem.size() / stride / MAX_SAMPLES);
            int sampledLow = 0;
            int presentLow = 0;
            int sampledHigh = 0;
            int presentHigh = 0;
            for (long off = 0; off < mem.size(); off += step) {
                boolean present = (pages.pagemapEntry(mem.hva() + off) & HostPages.PAGEMAP_PRESENT) != 0;
                if (off < mem.size() / 2) {
                    sampledLow++;
                    presentLow += present ? 1 : 0;
                } else {
                    sampledHigh++;
                    presentHigh += present ? 1 : 0;
                }
            }
            return new PagemapSample(step, sampledLow, presentLow, sampledHigh, presentHigh);
        }
    }

    /** "%ld.%.9lds" of a timespec difference. */
    private static String ts(long ns) {
        return String.format("%d.%09ds", ns / 1_000_000_000L, ns % 1_000_000_000L);
    }

    /** vcpu_worker() of either C file. */
    private void vcpuWorker(Vcpu vcpu, Rendezvous rv, long start, long end, long stride, long roDone) {
        if (stress) {
            vcpu.setArgs(start, end, stride, roDone);
        } else {
            vcpu.setArgs(start, end, stride);
        }
        rv.withBoss();

        runVcpu(vcpu, 0);
        rv.withBoss();
        // Toggle CR0.WP to trigger a MMU context reset.
        Sregs sregs = vcpu.sregs();
        vcpu.setSregs(sregs.withCr0(sregs.cr0() ^ Sregs.CR0_WP));
        rv.withBoss();

        runVcpu(vcpu, stress ? 1 : 0);
        rv.withBoss();
        if (!stress) {
            return;
        }
        // Stage 2, read all of guest memory, which is now read-only.
        runVcpu(vcpu, 2);

        // Stage 3: write guest memory and expect EFAULT once the mprotect(PROT_READ) lands; go there without a
        // rendezvous.
        int r;
        long otherExits = 0;
        long mmioWrites = 0;
        do {
            r = vcpu.tryRun();
            if (r == 0 && isWriteMmioExit(vcpu)) {
                mmioWrites++;
                break;
            }
            // The C loop spins here forever if no EFAULT ever comes; a ucall means the guest got past its writes.
            Ucall early = r == 0 ? vcpu.ucall() : Ucall.NONE;
            TestAssertionFailure.check(early.kind() == Ucall.Kind.NONE, "r == -1 && errno == EFAULT",
                    "Expected EFAULT on write to RO memory, but the guest made a ucall (%s, stage %d) after %d other "
                            + "exits: its writes did not fail", early.kind(), early.stage(), otherExits);
            otherExits += r == 0 ? 1 : 0;
        } while (r == 0);
        if (mmioWrites == 0) {
            TestAssertionFailure.check(r == EFAULT, "r == -1 && errno == EFAULT",
                    "Expected EFAULT on write to RO memory, got r = -1, errno = %d", r);
        }
        // Verify every write from the guest fails now that the VMA is read-only: step over each faulting store.
        for (;;) {
            r = vcpu.tryRun();
            if (r == 0) {
                if (!isWriteMmioExit(vcpu)) {
                    break;
                }
                mmioWrites++; // KVM completes the (dropped) MMIO write itself on the next KVM_RUN
                continue;
            }
            TestAssertionFailure.check(r == EFAULT, "errno == EFAULT", "errno = %d", r);
            vcpu.setRip(vcpu.rip() + STORE_INSN_LENGTH);
        }
        assertSyncStage(vcpu, 3);
        if (mmioWrites > 0) {
            GuestLog.info("vCPU %d: KVM_RUN reported %d writes to the read-only memory as KVM_EXIT_MMIO, not EFAULT "
                    + "(this host's KVM emulates the faulting store, and the write to the read-only page fails)\n",
                    vcpu.id(), mmioWrites);
        }
        rv.withBoss();

        // Stage 4: run to completion, waiting for mprotect(PROT_WRITE) to make the memory writable again.
        do {
            r = vcpu.tryRun();
        } while (r == EFAULT || (r == 0 && isWriteMmioExit(vcpu)));
        TestAssertionFailure.check(r == 0, "r == 0", "r = %d", r);
        assertSyncStage(vcpu, 4);
        rv.withBoss();
    }

    private static final int EFAULT = 14;

    /**
     * A write the host reported as KVM_EXIT_MMIO: how a KVM that emulates the faulting instruction (this
     * machine's, under PVM) ends a guest store to memory whose VMA is read-only, where stock KVM fails KVM_RUN
     * with EFAULT.
     */
    private static boolean isWriteMmioExit(Vcpu vcpu) {
        Exit e = vcpu.lastExit();
        return e != null && e.is(Exit.MMIO) && e.detail().endsWith(" write");
    }

    /** run_vcpu(): one KVM_RUN that must end in GUEST_SYNC(stage). */
    private static void runVcpu(Vcpu vcpu, int stage) {
        vcpu.run();
        assertSyncStage(vcpu, stage);
    }

    /** assert_sync_stage(); 6.12's run_vcpu() only checks UCALL_SYNC, and its guest always syncs with 0. */
    private static void assertSyncStage(Vcpu vcpu, int stage) {
        Ucall uc = vcpu.ucall();
        if (uc.kind() == Ucall.Kind.ABORT) {
            throw TestAssertionFailure.guestAssert(uc);
        }
        TestAssertionFailure.check(uc.kind() == Ucall.Kind.SYNC, "get_ucall(vcpu, &uc) == UCALL_SYNC",
                "%s != UCALL_SYNC", uc.kind());
        TestAssertionFailure.check(uc.stage() == stage, "uc.args[1] == stage", "0x%x != 0x%x", uc.stage(), stage);
    }

    @Override
    public Map<String, Object> options() {
        Params p = params;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nr_vcpus", p.nrVcpus());
        m.put("max_mem", p.maxMem());
        m.put("slot_size", p.slotSize());
        m.put("hugepages", p.hugepages());
        m.put("maxphyaddr", p.maxPhyAddr());
        m.put("stride", p.stride());
        m.put("hugepage_size", p.hugepages() ? p.hugepageSize() : null);
        return m;
    }
}
