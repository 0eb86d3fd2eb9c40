// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.AbstractVm;
import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.HostPages;
import dev.kvmharness.harness.HostBuffer;
import dev.kvmharness.harness.MemRegion;
import dev.kvmharness.harness.RunProgress;
import dev.kvmharness.harness.Slot0;
import dev.kvmharness.harness.Slot0Layout;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.x86.CompiledGuest;
import dev.kvmharness.harness.x86.PageSize;
import dev.kvmharness.harness.x86.X86Compiler;
import dev.kvmharness.harness.x86.X86PageTables;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.MemFd;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.kvm.StatKind;
import dev.kvmharness.mmu.kvm.VmStats;
import dev.kvmharness.mmu.oracle.StaleTranslationOracle;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.memslot.DirtyLog;
import dev.kvmharness.mmu.memslot.MemslotUpdate;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A VM on the simulator, built like the real backend builds one: slot 0 identity mapped with the harness's
 * page tables (written into simulated guest memory by the same {@link X86PageTables}), stacks and data from
 * {@link Slot0Layout}, and one simulated vCPU per shape vCPU running the shape's program. The thread that
 * creates it becomes the simulation's main thread; vCPU and helper threads are spawned through {@link #host()}.
 */
final class SimVm extends AbstractVm<SimMemRegion, SimGuestVcpu> {
    private final SimBackend backend;
    private final SimScheduler sched;
    private final PhysMem phys;
    private final HostMm mm;
    private final SimKvm kvm;
    /** The checker of this VM, attached from outside the model. */
    private final StaleTranslationOracle oracle;
    private final MemslotUpdate memslotUpdate;
    private final DirtyLog dirtyLog;
    private final SimHost host;
    private final List<SimDemandPaging> demandPagers = new ArrayList<>();
    private boolean closed;
    private RunProgress.Registration progress;

    SimVm(SimBackend backend, VmShape shape) {
        super(shape, backend.caps());
        this.backend = backend;
        SimOptions o = backend.options();
        this.sched = new SimScheduler(o.seed(), o.costs(), o.hostCpus());
        sched.attachCurrent(Thread.currentThread().getName(), 0);
        this.phys = new PhysMem();
        this.mm = new HostMm(sched, phys);
        this.kvm = new SimKvm(sched, mm, o.config(), shape.type());
        this.oracle = StaleTranslationOracle.attachTo(kvm);
        this.memslotUpdate = new MemslotUpdate(kvm, SimCaps.limits(o.config(), shape.type()));
        this.dirtyLog = new DirtyLog(kvm);
        this.host = new SimHost(sched, phys);
        try {
            build();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        // For a person watching: the vCPUs' EPT violations fixed so far (read racily, never fed back).
        List<SimVcpu> counted = List.copyOf(kvm.vcpus());
        this.progress = RunProgress.addPageSource(() -> {
            long n = 0;
            for (SimVcpu v : counted) {
                n += v.stats().pfFixed;
            }
            return n;
        });
    }

    private void build() {
        VmShape shape = shape();
        Slot0 slot0 = addSlot0(PageSize.SIZE_2M, guestPagingLevels());
        // Compiled once for the VM, as the real backend loads one copy: only RIP needs its layout.
        CompiledGuest code = X86Compiler.compile(shape.program());
        for (int i = 0; i < shape.nrVcpus(); i++) {
            // The stack the real backend gives each vCPU: the interpreter needs none, the layout stays the same.
            allocVcpuStack();
            vcpuList().add(new SimGuestVcpu(this, kvm.createVcpu(), code, slot0.pageTables().cr3(),
                    guestPagingLevels() == 5, shape.runTimeout()));
        }
    }

    SimKvm kvm() {
        return kvm;
    }

    /** vCPUs of this VM inside KVM_RUN now: what {@link Cost#GUEST_INSN_SMP} is charged for (vCPU count scaling). */
    private int vcpusInRun;

    void enterRun() {
        vcpusInRun++;
    }

    void leaveRun() {
        vcpusInRun--;
    }

    /** The other vCPUs of this VM inside KVM_RUN, beside the one asking. */
    int otherVcpusInRun() {
        return vcpusInRun - 1;
    }

    SimScheduler sched() {
        return sched;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    /**
     * An anonymous mapping of the source's backing, or for a shared source a memfd mapped twice (the second
     * mapping is the alias), installed with KVM_SET_USER_MEMORY_REGION.
     */
    @Override
    protected SimMemRegion installRegion(BackingSource src, int slot, long gpa, long size, int flags) {
        long hva;
        long alias = 0;
        switch (src) {
            case SHMEM, SHARED_HUGETLB -> {
                MemFd file = new MemFd(phys, "kvm_autotest_slot" + slot, size, src.isHugetlb() ? src.pageSize() : 4096);
                hva = mm.mmap(size, file, 0);
                alias = mm.mmap(size, file, 0);
            }
            default -> hva = mm.mmap(size, SimBacking.of(src));
        }
        memslotUpdate.set(MemslotRequest.v1(slot, flags, gpa, size, hva));
        return new SimMemRegion(slot, gpa, size, flags, src, hva, alias);
    }

    @Override
    public long[] getDirtyLog(int slot) {
        return dirtyLog.get(slot);
    }

    /** KVM_CLEAR_DIRTY_LOG ({@link DirtyLog#clear}). */
    @Override
    public void clearDirtyLog(int slot, long firstPage, int numPages, long[] bitmap) {
        clearDirtyLogWords(bitmap, numPages);
        dirtyLog.clear(slot, firstPage, Integer.toUnsignedLong(numPages), bitmap);
    }

    @Override
    protected SimMemRegion withFlags(SimMemRegion r, int flags) {
        return new SimMemRegion(r.slot(), r.gpa(), r.size(), flags, r.source(), r.hva(), r.alias());
    }

    @Override
    public void setUserMemoryRegion(int slot, int flags, long gpa, long size, long hva) {
        memslotUpdate.set(MemslotRequest.v1(slot, flags, gpa, size, hva));
    }

    /**
     * kvm_memfd_alloc() + mmap(MAP_SHARED): a memfd (hugetlb at the configured huge page size with
     * {@code hugepages}) mapped once; its pages are allocated on first touch.
     */
    @Override
    public HostBuffer memfdAlloc(long size, boolean hugepages) {
        long ps = hugepages ? backend.options().hugetlbPageSize() : 4096;
        MemFd file = new MemFd(phys, "kvm_selftest", size, ps);
        long hva = mm.mmap(size, file, 0);
        // The fd stays open until the VM goes, as the C test never closes it.
        return new SimHostBuffer(mm, hva, size);
    }

    /**
     * The process exits with the VM still open (max_guest_memory_test's deliberate non-cleanup): exit_mm()
     * runs first, so KVM hears mmu_notifier release and zaps everything, then exit_files() closes the VM fd.
     */
    @Override
    public void exitWithoutCleanup() {
        if (closed) {
            return;
        }
        mm.close();
        close();
    }

    /** KVM_SET_USER_MEMORY_REGION on an existing region: move, delete (size 0) or change flags. */
    void setMemoryRegion(MemslotRequest req) {
        memslotUpdate.set(req);
    }

    @Override
    protected SimMemRegion movedTo(SimMemRegion r, long newGpa) {
        return new SimMemRegion(r.slot(), newGpa, r.size(), r.flags(), r.source(), r.hva(), r.alias());
    }

    @Override
    protected void unmapHostMemory(SimMemRegion r) {
        mm.munmap(r.hva(), r.size());
        if (r.alias() != 0) {
            mm.munmap(r.alias(), r.size());
        }
    }

    /**
     * KVM_ENABLE_CAP: the simulator knows KVM_CAP_DISABLE_QUIRKS2 and KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (its arg
     * the KVM_DIRTY_LOG_* bits, 0 switching manual protect off); other capabilities are EINVAL.
     */
    @Override
    public void enableCap(int cap, long arg) {
        switch (cap) {
            case SimCaps.KVM_CAP_DISABLE_QUIRKS2 -> kvm.disableQuirks2(arg);
            case KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 -> kvm.enableManualDirtyLogProtect2(arg);
            default -> throw new SimKvmException("KVM_ENABLE_CAP", KvmErrno.EINVAL,
                    "capability " + cap + " cannot be enabled on the simulator");
        }
    }

    /** 5-level guest paging (CR4.LA57) for a 57-bit guest mode, else 4-level. */
    int guestPagingLevels() {
        return shape().mode().vaBits() == 57 ? 5 : 4;
    }

    @Override
    public long read64(long gpa) {
        return mm.read(gpa2hva(gpa), 8);
    }

    @Override
    public void write64(long gpa, long value) {
        mm.write(gpa2hva(gpa), 8, value);
    }

    /** One copy_from_user() of the words, as the VMM's memcpy from its mapping would be. */
    @Override
    public void readWords(long gpa, long[] dst, int n) {
        byte[] bytes = new byte[n * Long.BYTES];
        mm.readBytes(gpa2hva(gpa), bytes, 0, bytes.length);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(dst, 0, n);
    }

    /** One copy_to_user() of the words. */
    @Override
    public void writeWords(long gpa, long[] src, int n) {
        byte[] bytes = new byte[n * Long.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(src, 0, n);
        mm.writeBytes(gpa2hva(gpa), bytes, 0, bytes.length);
    }

    @Override
    public void fill(long gpa, long len, byte value) {
        mm.fill(gpa2hva(gpa), len, value);
    }

    @Override
    public void fillAlias(long gpa, long len, byte value) {
        long alias = gpa2alias(gpa);
        if (alias == 0) {
            throw new IllegalArgumentException("gpa 0x" + Long.toHexString(gpa) + " has no alias mapping");
        }
        mm.fill(alias, len, value);
    }

    @Override
    public HostPages hostPages() {
        return new SimHostPages(mm);
    }

    /** The simulated mm's madvise(MADV_DONTNEED): MMU notifiers, then the pages are freed. */
    @Override
    public void madviseDontneed(long gpa, long len) {
        MemRegion r = regions().of(gpa);
        TestAssertionFailure.check(gpa + len - r.gpa() <= r.size(), "range in one region",
                "madvise(MADV_DONTNEED) of [0x%x, 0x%x) crosses the end of slot %d", gpa, gpa + len, r.slot());
        mm.madviseDontneed(gpa2hva(gpa), len);
    }

    @Override
    public Host host() {
        return host;
    }

    /** The simulator's guest TSC is its virtual clock in ns. */
    public static final long TSC_KHZ = 1_000_000;

    @Override
    public long tscKhz() {
        return TSC_KHZ;
    }

    @Override
    public Stats stats() {
        Set<String> cumulative = new HashSet<>();
        Map<String, long[]> vm = toStats(kvm.stats().snapshot(), cumulative);
        List<Map<String, long[]>> perVcpu = new ArrayList<>();
        for (SimGuestVcpu v : vcpuList()) {
            perVcpu.add(toStats(v.simVcpu().stats().snapshot(), cumulative));
        }
        return new Stats(vm, perVcpu, cumulative);
    }

    private static Map<String, long[]> toStats(Map<String, VmStats.Stat> snap, Set<String> cumulative) {
        Map<String, long[]> out = new LinkedHashMap<>();
        snap.forEach((name, s) -> {
            out.put(name, new long[] {s.value()});
            if (s.kind() == StatKind.CUMULATIVE) {
                cumulative.add(name);
            }
        });
        return out;
    }

    /** The policy, the virtual clock and how mmu_lock was contended, in virtual time. */
    @Override
    public Map<String, Object> backendReport() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("policy", kvm.policy().name());
        m.put("virtual_now_ns", sched.now());
        m.put("scheduler_handoffs", sched.handoffs());
        var lock = kvm.mmuLock();
        m.put("mmu_lock_acquisitions", lock.acquisitions());
        m.put("mmu_lock_contended", lock.contendedAcquisitions());
        m.put("mmu_lock_wait_ns", lock.waitNs());
        m.put("mmu_lock_max_wait_ns", lock.maxWaitNs());
        hostReport(m);
        agingReport(m);
        if (kvm.config().oracle()) {
            var violations = oracle.violations();
            m.put("oracle_violations", violations.size());
            if (!violations.isEmpty()) {
                // what a reader of a failed run needs first: the model bug the oracle saw, in its words
                m.put("oracle_first_violation", violations.get(0).what());
            }
        } else {
            // a benchmark run (--oracle off): nothing was checked, so there is no violation count to give
            m.put("oracle", "off");
        }
        return m;
    }

    /**
     * The host's shared resources a demand fault goes through (mmap_lock, its count word's cache line, the zone
     * lock, the memory bus), and the time vCPUs spent in get_user_pages and handlers in the uffd fill ioctls.
     */
    private void hostReport(Map<String, Object> m) {
        var sem = mm.mmapSemaphore();
        m.put("mmap_lock_acquisitions", sem.acquisitions());
        m.put("mmap_lock_contended", sem.contendedAcquisitions());
        m.put("mmap_lock_wait_ns", sem.waitNs());
        var line = mm.mmapLockLine();
        m.put("mmap_lock_line_transfers", line.requests());
        m.put("mmap_lock_line_wait_ns", line.waitNs());
        var zone = mm.zoneLock();
        m.put("zone_lock_acquisitions", zone.acquisitions());
        m.put("zone_lock_contended", zone.contendedAcquisitions());
        m.put("zone_lock_wait_ns", zone.waitNs());
        var bus = mm.memoryBus();
        m.put("memory_bus_requests", bus.requests());
        m.put("memory_bus_wait_ns", bus.waitNs());
        if (sched.hostCpus() > 0) {
            m.put("host_cpus", sched.hostCpus());
            m.put("cpu_waits", sched.cpuWaits());
            m.put("cpu_wait_ns", sched.cpuWaitNs());
            m.put("cpu_idle_exits", sched.cpuIdleExits());
            m.put("cpu_preemptions", sched.cpuPreemptions());
        }
        m.put("gup_ns", mm.gupNs());
        m.put("uffd_fill_ioctl_ns", mm.uffdFillNs());
    }

    /**
     * KVM's aging callbacks (the kvm_age_hva and kvm_test_age_hva tracepoints) and idle page tracking's work, once
     * anything used them: runs that never age report exactly what they did before.
     */
    private void agingReport(Map<String, Object> m) {
        var n = kvm.notifier();
        var idle = mm.pageIdle();
        if (n.ageCallbacks() + n.testAgeCallbacks() + idle.reads() + idle.writes() == 0) {
            return;
        }
        m.put("kvm_age_hva", n.ageCallbacks());
        m.put("kvm_age_hva_young", n.ageYoung());
        m.put("kvm_test_age_hva", n.testAgeCallbacks());
        m.put("kvm_test_age_hva_young", n.testAgeYoung());
        m.put("page_idle_reads", idle.reads());
        m.put("page_idle_writes", idle.writes());
        m.put("page_idle_marked", idle.markedIdle());
        m.put("page_idle_found_referenced", idle.foundReferenced());
    }

    @Override
    public DemandPaging demandPaging(DemandPaging.Config config) {
        SimDemandPaging dp = new SimDemandPaging(sched, mm, config);
        demandPagers.add(dp);
        return dp;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (progress != null) {
                progress.close();
            }
            for (SimDemandPaging dp : demandPagers) {
                dp.close();
            }
            kvm.close();
            mm.close();
        } finally {
            sched.detachCurrent();
            sched.close();
        }
    }
}
