// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.GuestRandomSeed;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * lib/memstress.c: a VM whose test region sits at the top of guest physical memory, split into
 * {@code slots} memslots, mapped at {@link #GUEST_TEST_VIRT_MEM}, and divided between vCPUs (partitioned)
 * or shared by all of them (overlapped).
 */
public final class Memstress implements AutoCloseable {
    /** DEFAULT_GUEST_TEST_MEM. */
    public static final long GUEST_TEST_VIRT_MEM = 0xc0000000L;
    /** MEMSTRESS_MEM_SLOT_INDEX: the test region's first memslot. */
    public static final int MEM_SLOT_INDEX = 1;
    /** DEFAULT_PER_VCPU_MEM_SIZE. */
    public static final long DEFAULT_PER_VCPU_MEM_SIZE = 1L << 30;

    private final Vm vm;
    private final long argsGva;
    private final long gpa;
    private final long size;
    private final long guestPageSize;
    private final List<VcpuArgs> vcpuArgs;
    /** Per vCPU, the gpa of its latency buffer (timed guest), or null when timing is off. */
    private long[] latencyBufGpa;
    /** The test region's memslots: MEM_SLOT_INDEX .. MEM_SLOT_INDEX + slots - 1. */
    private int slots;

    private Memstress(Vm vm, long argsGva, long gpa, long size, long guestPageSize, List<VcpuArgs> vcpuArgs) {
        this.vm = vm;
        this.argsGva = argsGva;
        this.gpa = gpa;
        this.size = size;
        this.guestPageSize = guestPageSize;
        this.vcpuArgs = vcpuArgs;
    }

    /** Guest behaviour knobs (memstress_set_write_percent / _random_access) and the random seed. */
    /**
     * Guest behaviour knobs (memstress_set_write_percent / _random_access), the random seed, and whether the
     * guest times each access ({@link MemstressGuest#TIMED_PROGRAM}; not in C).
     */
    public record Options(int writePercent, boolean randomAccess, long randomSeed, Duration runTimeout,
                          boolean timeAccesses) {
        public Options(int writePercent, boolean randomAccess, long randomSeed, Duration runTimeout) {
            this(writePercent, randomAccess, randomSeed, runTimeout, false);
        }

        public static Options defaults(long seed) {
            return new Options(100, false, seed, VmShape.DEFAULT_RUN_TIMEOUT);
        }

        public Options withTimeAccesses(boolean on) {
            return new Options(writePercent, randomAccess, randomSeed, runTimeout, on);
        }
    }

    /** The memslot of the timed guest's latency buffers: after the test region's slots. */
    public static int latencySlot(int slots) {
        return MEM_SLOT_INDEX + slots;
    }

    /** memstress_create_vm(). */
    public static Memstress createVm(Backend backend, GuestMode mode, int nrVcpus, long vcpuMemoryBytes, int slots,
                                     BackingSource src, boolean partition, Options options) {
        GuestLog.info("Testing guest mode: %s\n", mode.label());
        long guestPageSize = mode.pageSize();
        long guestNumPages = (nrVcpus * vcpuMemoryBytes) / guestPageSize;
        TestAssertionFailure.check(vcpuMemoryBytes % 4096 == 0, "vcpu_memory_bytes % getpagesize() == 0",
                "Guest memory size is not host page size aligned.");
        TestAssertionFailure.check(vcpuMemoryBytes % guestPageSize == 0, "vcpu_memory_bytes % guest_page_size == 0",
                "Guest memory size is not guest page size aligned.");
        TestAssertionFailure.check(guestNumPages % slots == 0, "guest_num_pages % slots == 0",
                "Guest memory cannot be evenly divided into %d slots.", slots);

        long vcpuPages = partition ? vcpuMemoryBytes / guestPageSize : guestNumPages;
        // Timing off must leave the VM exactly as memstress_create_vm() builds it: same program, slots, pages.
        long latPagesPerVcpu = options.timeAccesses() ? (vcpuPages * 8 + guestPageSize - 1) / guestPageSize : 0;
        long latPages = latPagesPerVcpu * nrVcpus;
        Vm vm = backend.createVm(VmShape.of(options.timeAccesses() ? MemstressGuest.TIMED_PROGRAM : MemstressGuest.PROGRAM,
                        nrVcpus).withMode(mode)
                .withExtraMemPages(guestNumPages + latPages).withRunTimeout(options.runTimeout()));
        try {
            GuestRandomSeed.vmCreated(options.randomSeed());
            long regionEndGfn = vm.maxGfn() + 1;
            TestAssertionFailure.check(guestNumPages < regionEndGfn, "guest_num_pages < region_end_gfn",
                    "Requested more guest memory than address space allows.\n    guest pages: %x max gfn: %x"
                            + " nr_vcpus: %d wss: %x]", guestNumPages, regionEndGfn - 1, nrVcpus, vcpuMemoryBytes);
            long gpa = (regionEndGfn - guestNumPages - 1) * guestPageSize;
            gpa &= -src.pageSize();
            long size = guestNumPages * guestPageSize;
            GuestLog.info("guest physical test memory: [0x%x, 0x%x)\n", gpa, gpa + size);

            long regionPages = guestNumPages / slots;
            for (int i = 0; i < slots; i++) {
                vm.addRegion(src, gpa + regionPages * guestPageSize * i, MEM_SLOT_INDEX + i, regionPages, 0);
            }
            vm.virtMap(GUEST_TEST_VIRT_MEM, gpa, size);
            long[] latGpa = null;
            long latGva0 = 0;
            if (latPages > 0) {
                // The latency buffers: anonymous memory of their own slot just below the test region, mapped
                // above the test region's gvas, so that neither userfaultfd nor the test's backing sees them.
                long latGpaBase = gpa - latPages * guestPageSize;
                vm.addRegion(BackingSource.ANONYMOUS, latGpaBase, latencySlot(slots), latPages, 0);
                latGva0 = (GUEST_TEST_VIRT_MEM + size + (1L << 30) - 1) & -(1L << 30);
                vm.virtMap(latGva0, latGpaBase, latPages * guestPageSize);
                latGpa = new long[nrVcpus];
                for (int i = 0; i < nrVcpus; i++) {
                    latGpa[i] = latGpaBase + i * latPagesPerVcpu * guestPageSize;
                }
            }

            // memstress_args lives in guest memory: the guest reads its parameters from it on every access.
            long argsGva = vm.vaddrAlloc(MemstressArgs.size(nrVcpus));
            vm.write64(argsGva + MemstressArgs.OFF_GUEST_PAGE_SIZE, guestPageSize);
            vm.write64(argsGva + MemstressArgs.OFF_WRITE_PERCENT, options.writePercent());
            vm.write64(argsGva + MemstressArgs.OFF_RANDOM_ACCESS, options.randomAccess() ? 1 : 0);
            vm.write64(argsGva + MemstressArgs.OFF_RANDOM_SEED, options.randomSeed() & 0xffffffffL);
            vm.write64(argsGva + MemstressArgs.OFF_SIZE, MemstressArgs.size(nrVcpus));
            List<VcpuArgs> args = new ArrayList<>();
            for (int i = 0; i < nrVcpus; i++) {
                VcpuArgs a = partition
                        ? new VcpuArgs(vm.vcpu(i), i, GUEST_TEST_VIRT_MEM + i * vcpuMemoryBytes, gpa + i * vcpuMemoryBytes,
                                vcpuMemoryBytes / guestPageSize)
                        : new VcpuArgs(vm.vcpu(i), i, GUEST_TEST_VIRT_MEM, gpa, guestNumPages);
                long va = MemstressArgs.vcpuArgs(argsGva, i);
                vm.write64(va + MemstressArgs.VCPU_OFF_GVA, a.gva());
                vm.write64(va + MemstressArgs.VCPU_OFF_PAGES, a.pages());
                vm.write64(va + MemstressArgs.VCPU_OFF_IDX, i);
                vm.write64(va + MemstressArgs.VCPU_OFF_LATENCY_BUF,
                        latGpa == null ? 0 : latGva0 + i * latPagesPerVcpu * guestPageSize);
                vm.vcpu(i).setArgs(argsGva, i);
                GuestLog.debug("Added VCPU %d with test mem gpa [%x, %x)\n", i, a.gpa(), a.gpa() + a.pages() * guestPageSize);
                args.add(a);
            }
            Memstress ms = new Memstress(vm, argsGva, gpa, size, guestPageSize, args);
            ms.latencyBufGpa = latGpa;
            ms.slots = slots;
            return ms;
        } catch (RuntimeException | Error e) {
            vm.close();
            throw e;
        }
    }

    public Vm vm() {
        return vm;
    }

    /** memstress_args.gpa: start of the test region. */
    public long gpa() {
        return gpa;
    }

    public long size() {
        return size;
    }

    public long guestPageSize() {
        return guestPageSize;
    }

    public List<VcpuArgs> vcpuArgs() {
        return vcpuArgs;
    }

    public VcpuArgs vcpuArgs(int i) {
        return vcpuArgs.get(i);
    }

    /** Whether the guest times its accesses ({@link Options#timeAccesses()}). */
    public boolean timesAccesses() {
        return latencyBufGpa != null;
    }

    /**
     * What the timed guest measured for vCPU {@code i}: the TSC ticks of each access of its last pass, in access
     * order ({@link Vm#tscKhz()} converts); entries it has not reached yet are 0.
     */
    public long[] accessTicks(int i) {
        if (latencyBufGpa == null) {
            throw new IllegalStateException("the guest does not time its accesses (Options.timeAccesses is off)");
        }
        long[] out = new long[(int) vcpuArgs.get(i).pages()];
        for (int k = 0; k < out.length; k++) {
            out[k] = vm.read64(latencyBufGpa[i] + 8L * k);
        }
        return out;
    }

    /** memstress_set_write_percent(): takes effect from the guest's next access. */
    public void setWritePercent(int percent) {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("write percent " + percent + " not in [0, 100]");
        }
        vm.write64(argsGva + MemstressArgs.OFF_WRITE_PERCENT, percent);
    }

    /** memstress_set_random_access(). */
    public void setRandomAccess(boolean random) {
        vm.write64(argsGva + MemstressArgs.OFF_RANDOM_ACCESS, random ? 1 : 0);
    }

    // ---- dirty logging over the test region's memslots, and the vCPU threads with stop_vcpus (memstress.c) ----

    /** KVM_MEM_LOG_DIRTY_PAGES. */
    public static final int KVM_MEM_LOG_DIRTY_PAGES = 1;
    private volatile boolean stopVcpus;
    private VcpuThreads vcpuThreads;

    /** The number of memslots the test region is split into (memstress_create_vm()'s {@code slots}). */
    public int slots() {
        return slots;
    }

    /** The guest pages of each test memslot (the C tests' pages_per_slot: host_num_pages / slots on x86). */
    public long pagesPerSlot() {
        return size / guestPageSize / slots;
    }

    /** memstress_enable_dirty_logging(): KVM_MEM_LOG_DIRTY_PAGES on every test memslot, in slot order. */
    public void enableDirtyLogging() {
        toggleDirtyLogging(true);
    }

    /** memstress_disable_dirty_logging(). */
    public void disableDirtyLogging() {
        toggleDirtyLogging(false);
    }

    private void toggleDirtyLogging(boolean enable) {
        for (int i = 0; i < slots; i++) {
            vm.memRegionSetFlags(MEM_SLOT_INDEX + i, enable ? KVM_MEM_LOG_DIRTY_PAGES : 0);
        }
    }

    /** memstress_alloc_bitmaps(): one zeroed bitmap of {@link #pagesPerSlot()} bits per test memslot. */
    public long[][] allocBitmaps() {
        return new long[slots][(int) ((pagesPerSlot() + 63) / 64)];
    }

    /** memstress_get_dirty_log(): KVM_GET_DIRTY_LOG of every test memslot into its bitmap. */
    public void getDirtyLog(long[][] bitmaps) {
        for (int i = 0; i < slots; i++) {
            long[] log = vm.getDirtyLog(MEM_SLOT_INDEX + i);
            System.arraycopy(log, 0, bitmaps[i], 0, Math.min(log.length, bitmaps[i].length));
        }
    }

    /** memstress_clear_dirty_log(): KVM_CLEAR_DIRTY_LOG of pages [0, pagesPerSlot) of every test memslot. */
    public void clearDirtyLog(long[][] bitmaps, long pagesPerSlot) {
        for (int i = 0; i < slots; i++) {
            vm.clearDirtyLog(MEM_SLOT_INDEX + i, 0, (int) pagesPerSlot, bitmaps[i]);
        }
    }

    /**
     * memstress_start_vcpu_threads(): clears stop_vcpus, then one thread per vCPU running {@code fn}, pinned as
     * {@code pcpus} says (null: not pinned), released together.
     */
    public VcpuThreads startVcpuThreads(int[] pcpus, Consumer<VcpuArgs> fn) {
        stopVcpus = false;
        vcpuThreads = VcpuThreads.start(vm.host(), vcpuArgs, pcpus, fn);
        return vcpuThreads;
    }

    /** READ_ONCE(memstress_args.stop_vcpus): the test is done and the vCPU threads should return. */
    public boolean stopVcpus() {
        return stopVcpus;
    }

    /** memstress_join_vcpu_threads(): sets stop_vcpus, then waits for every vCPU thread (rethrowing a failure). */
    public void joinVcpuThreads() {
        stopVcpus = true;
        if (vcpuThreads == null) {
            throw new IllegalStateException("no vCPU threads: startVcpuThreads() was not called");
        }
        vcpuThreads.join();
    }

    /** memstress_destroy_vm(). */
    @Override
    public void close() {
        vm.close();
    }
}
