// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.harness.x86.GuestPhysicalMemory;
import dev.kvmharness.harness.x86.PageSize;
import java.util.List;
import java.util.Map;

/**
 * A VM as the selftests' struct kvm_vm presents it: memslots backed by host memory, guest page tables the
 * harness builds, vCPUs, and stats. Closing it destroys the VM and releases every fd, mapping and thread.
 */
public interface Vm extends GuestPhysicalMemory, AutoCloseable {
    Backend backend();

    GuestMode mode();

    /** The highest guest frame number the guest can address (vm->max_gfn). */
    long maxGfn();

    /**
     * vm_userspace_mem_region_add(): backs {@code npages} guest pages at {@code gpa} with fresh host memory
     * of the given source and installs it as memslot {@code slot}.
     */
    MemRegion addRegion(BackingSource src, long gpa, int slot, long npages, int flags);

    /**
     * vm_set_user_memory_region(): KVM_SET_USER_MEMORY_REGION as given, without the harness's region
     * bookkeeping (size 0 deletes the slot). A failure is an ioctl exception naming the errno.
     */
    void setUserMemoryRegion(int slot, int flags, long gpa, long size, long hva);

    /** kvm_memfd_alloc(size, hugepages) mapped MAP_SHARED, PROT_READ | PROT_WRITE. */
    HostBuffer memfdAlloc(long size, boolean hugepages);
    /** vm_mem_region_move(): KVM_SET_USER_MEMORY_REGION moving {@code slot} to {@code newGpa}. */
    void memRegionMove(int slot, long newGpa);

    /**
     * vm_mem_region_delete(): KVM_SET_USER_MEMORY_REGION with size 0, then the region's host memory is freed.
     * Deleting slot 0 takes the guest's code (on kvm) and page tables with it.
     */
    void memRegionDelete(int slot);

    /**
     * munmap() of the host memory behind memslot {@code slot}, which stays installed: the guest's next access
     * to it makes KVM_RUN fail with EFAULT (hva_to_pfn() finds no VMA). Host reads and writes of the region
     * are no longer possible.
     */
    void munmapRegionMemory(int slot);

    /** vm_enable_cap(): KVM_ENABLE_CAP on the VM, e.g. KVM_CAP_DISABLE_QUIRKS2. */
    void enableCap(int cap, long arg);

    /** The region installed as {@code slot}. */
    MemRegion region(int slot);

    /**
     * vm_vaddr_alloc() for harness data: {@code bytes} of zeroed guest memory in slot 0, identity mapped, so
     * the returned address is both the gva and the gpa. Used for structures host and guest share
     * (memstress_args).
     */
    long vaddrAlloc(long bytes);

    /** virt_map(): maps {@code bytes} of guest virtual memory at {@code gva} to {@code gpa} with 4K pages. */
    void virtMap(long gva, long gpa, long bytes);

    /**
     * __virt_pg_map() over a range: maps {@code bytes} at {@code gva} to {@code gpa} with pages up to
     * {@code largest} (which must not exceed {@link #largestGuestPage()}).
     */
    void virtMap(long gva, long gpa, long bytes, PageSize largest);

    /** The largest guest page size the vCPUs' CPUID offers (2 MiB, or 1 GiB with CPUID.80000001H:EDX.PDPE1GB). */
    PageSize largestGuestPage();

    /** addr_gpa2hva(): where the host sees guest physical address {@code gpa}. */
    long gpa2hva(long gpa);

    /** addr_gpa2alias(): the second host mapping of {@code gpa} (shared sources only), or 0. */
    long gpa2alias(long gpa);

    /**
     * Host reads and writes of guest memory by gpa, through the region's host mapping (as guest physical
     * memory, the page tables' view: {@link GuestPhysicalMemory}, whose block reads and writes a backend may
     * do as one copy).
     */
    @Override
    long read64(long gpa);

    @Override
    void write64(long gpa, long value);

    void fill(long gpa, long len, byte value);

    /** Fills through the alias mapping (shared sources): populates the page cache without mapping it here. */
    void fillAlias(long gpa, long len, byte value);

    List<Vcpu> vcpus();

    default Vcpu vcpu(int index) {
        return vcpus().get(index);
    }

    /** Threads and time for the test's host side: real on kvm, simulated and virtual on sim. */
    Host host();

    /**
     * What the backend itself can say about the run beyond KVM's stats, by name: on the simulator the virtual
     * clock, scheduler handoffs and mmu_lock contention in virtual time; on real KVM how the system calls are made
     * (native_calls: the JNI shim or JNA).
     */
    default Map<String, Object> backendReport() {
        return Map.of();
    }

    /**
     * The guest TSC's frequency in kHz, what {@link dev.kvmharness.harness.guest.Insn.ReadTsc} counts in:
     * KVM_GET_TSC_KHZ on kvm; 1 GHz on the simulator, whose guest TSC is its virtual clock in ns.
     */
    long tscKhz();

    /** A snapshot of the VM's and every vCPU's stats, by KVM's binary-stats names. */
    Stats stats();

    /**
     * KVM_GET_DIRTY_LOG for memslot {@code slot} (which must have KVM_MEM_LOG_DIRTY_PAGES): one bit per page of
     * the slot, set for each page written since the last call, and the pages write-protected again; with
     * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled the log and the protection are left alone for
     * {@link #clearDirtyLog} to reset. The selftests' kvm_vm_get_dirty_log().
     */
    long[] getDirtyLog(int slot);

    /** Demand paging with userfaultfd over part of the host memory (the selftests' userfaultfd_util). */
    DemandPaging demandPaging(DemandPaging.Config config);

    /**
     * What the process exiting with this VM still open does (the C tests that deliberately skip cleanup):
     * the mm goes first, so KVM's MMU notifier hears release() and drops every mapping, and only then are the
     * VM's fds closed. On /dev/kvm the kernel does this when the JVM exits, so this only stops the harness
     * from closing anything; on the simulator it runs that order now.
     */
    void exitWithoutCleanup();

    // ---- access tracking: guest virtual to host addresses, and the host's pagemap and page_idle ----

    /**
     * addr_gva2gpa(): walks the guest page tables the harness wrote ({@link #virtMap}, {@link #vaddrAlloc}); a gva
     * they do not map fails as the C helper does ("Leaf PTE not PRESENT for gva: ...").
     */
    long gva2gpa(long gva);

    /** addr_gva2hva(): {@link #gpa2hva} of {@link #gva2gpa}. */
    default long gva2hva(long gva) {
        return gpa2hva(gva2gpa(gva));
    }

    /** The VMM process's pagemap and the host's idle page tracking ({@link HostPages}). */
    HostPages hostPages();

    // ---- dirty logging: memslot flags and manual protect (kvm_util.h's dirty-log helpers) ----

    /**
     * vm_mem_region_set_flags(): KVM_SET_USER_MEMORY_REGION of memslot {@code slot}'s region, unchanged but for
     * {@code flags} (KVM_MEM_LOG_DIRTY_PAGES on or off, the only flag KVM lets change in place); the region keeps
     * them for later moves. A failure is an ioctl exception naming the errno.
     */
    void memRegionSetFlags(int slot, int flags);

    /**
     * kvm_vm_clear_dirty_log(): KVM_CLEAR_DIRTY_LOG of {@code numPages} pages of memslot {@code slot} from
     * {@code firstPage} (a multiple of 64): every page whose bit is set in {@code bitmap} (bit i of word i / 64 is
     * page firstPage + i) is cleared in KVM's log and write-protected again, so its next write is logged. Meant
     * for KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, with which {@link #getDirtyLog} clears and protects nothing.
     *
     * @param numPages a u32, as in struct kvm_clear_dirty_log
     * @throws IllegalArgumentException if {@code bitmap} has fewer than ceil(numPages / 64) words
     */
    void clearDirtyLog(int slot, long firstPage, int numPages, long[] bitmap);

    // ---- dropping host pages under the guest (memslot_perf_test's unmap tests) ----

    /**
     * madvise(addr_gpa2hva(gpa), len, MADV_DONTNEED): the host drops the pages behind [gpa, gpa + len), which
     * must lie in one memslot's region; KVM's MMU notifier zaps their SPTEs, so the guest's next access faults
     * in a fresh zeroed page. A failure is a test failure naming the gpa.
     */
    void madviseDontneed(long gpa, long len);

    @Override
    void close();
}
