// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import com.sun.jna.Memory;
import dev.kvmharness.harness.AbstractVm;
import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.HostPages;
import dev.kvmharness.harness.HostBuffer;
import dev.kvmharness.harness.HostCaps;
import dev.kvmharness.harness.MemRegion;
import dev.kvmharness.harness.PhysPageAllocator;
import dev.kvmharness.harness.Slot0;
import dev.kvmharness.harness.Slot0Layout;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.x86.CompiledGuest;
import dev.kvmharness.harness.x86.PageSize;
import dev.kvmharness.harness.x86.X86Compiler;
import dev.kvmharness.kvm.Kvm;
import dev.kvmharness.kvm.StatDescriptor;
import dev.kvmharness.kvm.StatsFd;
import dev.kvmharness.kvm.VmFd;
import dev.kvmharness.kvm.bindings.KvmCpuid2;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Syscalls;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A VM on /dev/kvm built like __vm_create_with_vcpus(): slot 0 identity mapped and holding the compiled guest
 * program, descriptor tables, page tables and stacks; then the vCPUs in long mode at the program's entry.
 */
final class KvmVm extends AbstractVm<KvmMemRegion, KvmVcpu> {
    private final KvmBackend backend;
    private final Kvm kvm;
    private final VmFd vmFd;
    private final List<KvmDemandPaging> demandPagers = new ArrayList<>();
    private final Map<List<Long>, Memory> prototypes = new HashMap<>();
    private StatsFd statsFd;
    private volatile Throwable failure;
    private boolean closed;
    /** exitWithoutCleanup() was called: close() must leave everything to the process exit. */
    private boolean abandoned;
    private final List<KvmHostBuffer> buffers = new ArrayList<>();

    KvmVm(KvmBackend backend, Kvm kvm, VmShape shape, HostCaps caps) {
        super(shape, caps);
        this.backend = backend;
        this.kvm = kvm;
        VmFd fd = null;
        try {
            fd = kvm.createVm(shape.type());
        } catch (RuntimeException e) {
            kvm.close();
            throw e;
        }
        this.vmFd = fd;
        try {
            build();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private void build() {
        VmShape shape = shape();
        long pageSize = pageSize();
        if (shape.mode().vaBits() != 48) {
            throw new IllegalArgumentException("the kvm backend builds 4-level guests only, not " + shape.mode().label());
        }
        Slot0 slot0 = addSlot0(largestGuestPage(), 4);
        PhysPageAllocator allocator = slot0.allocator();

        CompiledGuest code = X86Compiler.compile(shape.program());
        long codeGpa = allocator.alloc((code.code().length + pageSize - 1) / pageSize);
        region(0).memory.write(codeGpa - Slot0Layout.BASE_GPA, code.code());

        long gdt = allocator.allocPage();
        long idt = allocator.allocPage();
        long tss = allocator.allocPage();
        X86VcpuSetup.fillGdt(gdt, tss, this::write64);

        if (caps().binaryStats()) {
            statsFd = vmFd.statsFd();
        }
        KvmCpuid2 cpuid = KvmCpuid2.of(kvm.supportedCpuid().entries());
        for (int i = 0; i < shape.nrVcpus(); i++) {
            long rsp = allocVcpuStack();
            vcpuList().add(new KvmVcpu(this, vmFd.createVcpu(i), code, codeGpa, rsp, cpuid,
                    sregs -> X86VcpuSetup.initSregs(sregs, gdt, idt, tss, slot0.pageTables().cr3(), pageSize),
                    caps().binaryStats(), shape.runTimeout()));
        }
    }

    @Override
    public Backend backend() {
        return backend;
    }

    VmFd vmFd() {
        return vmFd;
    }

    @Override
    public synchronized long[] getDirtyLog(int slot) {
        MemRegion r = regions().slot(slot);
        int words = (int) ((r.size() / pageSize() + 63) / 64);
        try (Memory bitmap = new Memory(words * 8L)) {
            bitmap.clear();
            vmFd.getDirtyLog(slot, bitmap);
            return bitmap.getLongArray(0, words);
        }
    }

    /** KVM_CLEAR_DIRTY_LOG from a copy of {@code bitmap} in native memory. */
    @Override
    public synchronized void clearDirtyLog(int slot, long firstPage, int numPages, long[] bitmap) {
        int words = clearDirtyLogWords(bitmap, numPages);
        try (Memory buf = new Memory(Math.max(1, words) * 8L)) {
            buf.write(0, bitmap, 0, words);
            vmFd.clearDirtyLog(slot, firstPage, numPages, buf);
        }
    }

    @Override
    public synchronized void memRegionSetFlags(int slot, int flags) {
        super.memRegionSetFlags(slot, flags);
    }

    @Override
    protected KvmMemRegion withFlags(KvmMemRegion r, int flags) {
        return r.withFlags(flags);
    }

    /** Under the VM's lock, as every memslot change here: the uffd and vCPU threads are real threads. */
    @Override
    public synchronized MemRegion addRegion(BackingSource src, long gpa, int slot, long npages, int flags) {
        return super.addRegion(src, gpa, slot, npages, flags);
    }

    /** Fresh host memory (HostMemory.allocate) installed with KVM_SET_USER_MEMORY_REGION. */
    @Override
    protected KvmMemRegion installRegion(BackingSource src, int slot, long gpa, long size, int flags) {
        HostMemory memory = HostMemory.allocate(src, size);
        try {
            vmFd.setUserMemoryRegion(slot, flags, gpa, size, memory.hva());
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
        return new KvmMemRegion(slot, gpa, flags, memory);
    }

    @Override
    public void setUserMemoryRegion(int slot, int flags, long gpa, long size, long hva) {
        vmFd.setUserMemoryRegion(slot, flags, gpa, size, hva);
    }

    @Override
    public synchronized HostBuffer memfdAlloc(long size, boolean hugepages) {
        KvmHostBuffer b = KvmHostBuffer.allocate(size, hugepages);
        buffers.add(b);
        return b;
    }

    /** Nothing is closed: the kernel tears the VM down at process exit, mm (notifier release) first. */
    @Override
    public synchronized void exitWithoutCleanup() {
        abandoned = true;
    }

    @Override
    public synchronized void memRegionMove(int slot, long newGpa) {
        super.memRegionMove(slot, newGpa);
    }

    @Override
    protected KvmMemRegion movedTo(KvmMemRegion r, long newGpa) {
        return r.movedTo(newGpa);
    }

    @Override
    public synchronized void memRegionDelete(int slot) {
        super.memRegionDelete(slot);
    }

    @Override
    public synchronized void munmapRegionMemory(int slot) {
        super.munmapRegionMemory(slot);
    }

    /** HostMemory.close() unmaps (and closes a memfd); closing it again with the VM is a no-op. */
    @Override
    protected void unmapHostMemory(KvmMemRegion r) {
        r.memory.close();
    }

    @Override
    public void enableCap(int cap, long arg) {
        vmFd.enableCap(cap, arg);
    }

    private KvmMemRegion regionOf(long gpa) {
        return regions().of(gpa);
    }

    @Override
    public synchronized long vaddrAlloc(long bytes) {
        return super.vaddrAlloc(bytes);
    }

    @Override
    public synchronized void virtMap(long gva, long gpa, long bytes, PageSize largest) {
        super.virtMap(gva, gpa, bytes, largest);
    }

    @Override
    public long read64(long gpa) {
        KvmMemRegion r = regionOf(gpa);
        return r.memory.read64(gpa - r.gpa());
    }

    /** madvise(2) on the region's mapping. */
    @Override
    public void madviseDontneed(long gpa, long len) {
        KvmMemRegion r = regionOf(gpa);
        TestAssertionFailure.check(gpa + len - r.gpa() <= r.size(), "range in one region",
                "madvise(MADV_DONTNEED) of [0x%x, 0x%x) crosses the end of slot %d", gpa, gpa + len, r.slot());
        r.memory.madvise(gpa - r.gpa(), len, LibC.MADV_DONTNEED);
    }

    @Override
    public void write64(long gpa, long value) {
        KvmMemRegion r = regionOf(gpa);
        r.memory.write64(gpa - r.gpa(), value);
    }

    @Override
    public void fill(long gpa, long len, byte value) {
        KvmMemRegion r = regionOf(gpa);
        r.memory.fill(gpa - r.gpa(), len, value);
    }

    @Override
    public void fillAlias(long gpa, long len, byte value) {
        KvmMemRegion r = regionOf(gpa);
        r.memory.fillAlias(gpa - r.gpa(), len, value);
    }

    @Override
    public HostPages hostPages() {
        return KvmHostPages.INSTANCE;
    }

    @Override
    public Host host() {
        return RealHost.INSTANCE;
    }

    /** How the per-exit and per-page system calls reach the kernel: the JNI shim, or JNA and why. */
    @Override
    public Map<String, Object> backendReport() {
        return Map.of("native_calls", Syscalls.get().describe());
    }

    /** KVM_GET_TSC_KHZ. */
    @Override
    public long tscKhz() {
        return vmFd.tscKhz();
    }

    @Override
    public Stats stats() {
        Set<String> cumulative = new HashSet<>();
        Map<String, long[]> vmStats = statsFd == null ? Map.of() : statsFd.readAll();
        if (statsFd != null) {
            collectCumulative(statsFd, cumulative);
        }
        List<Map<String, long[]>> perVcpu = new ArrayList<>();
        for (KvmVcpu v : vcpuList()) {
            StatsFd s = v.statsFd();
            perVcpu.add(s == null ? Map.of() : s.readAll());
            if (s != null) {
                collectCumulative(s, cumulative);
            }
        }
        return new Stats(vmStats, perVcpu, cumulative);
    }

    private static void collectCumulative(StatsFd fd, Set<String> out) {
        for (StatDescriptor d : fd.descriptors()) {
            if (d.type() == StatDescriptor.Type.CUMULATIVE || d.isHistogram()) {
                out.add(d.name());
            }
        }
    }

    @Override
    public synchronized DemandPaging demandPaging(DemandPaging.Config config) {
        Memory prototype = null;
        if (config.mode() == DemandPaging.Mode.MISSING) {
            // guest_data_prototype: one page per VM however many uffds use it (1 GiB for 1 GiB hugetlb).
            prototype = prototypes.computeIfAbsent(List.of(config.pageSize(), (long) config.fill()), k -> {
                Memory m = new Memory(config.pageSize());
                m.setMemory(0, config.pageSize(), config.fill());
                return m;
            });
        }
        KvmDemandPaging dp = new KvmDemandPaging(config, prototype, this::fail);
        demandPagers.add(dp);
        return dp;
    }

    /**
     * Fails the VM from a helper thread (a uffd reader): every vCPU is kicked out of KVM_RUN and its run()
     * throws with {@code cause}.
     */
    void fail(Throwable cause) {
        failure = cause;
        for (KvmVcpu v : vcpuList()) {
            v.kick();
        }
    }

    /** The failure {@link #fail} recorded, or null. */
    Throwable failure() {
        return failure;
    }

    @Override
    public synchronized void close() {
        if (closed || abandoned) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        List<AutoCloseable> order = new ArrayList<>(demandPagers);
        order.addAll(vcpuList());
        if (statsFd != null) {
            order.add(statsFd);
        }
        if (vmFd != null) {
            order.add(vmFd);
        }
        order.add(kvm);
        // Host memory goes last: KVM must no longer reference it through a memslot.
        order.addAll(regions().all().stream().map(r -> (AutoCloseable) r.memory).toList());
        order.addAll(prototypes.values().stream().map(m -> (AutoCloseable) m).toList());
        order.addAll(buffers);
        for (AutoCloseable c : order) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing VM resources failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
