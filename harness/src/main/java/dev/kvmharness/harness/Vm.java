// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.util.List;

/**
 * A VM as the selftests' struct kvm_vm presents it: memslots backed by host memory, guest page tables the
 * harness builds, vCPUs, and stats. Closing it destroys the VM and releases every fd, mapping and thread.
 */
public interface Vm extends AutoCloseable {
    Backend backend();

    GuestMode mode();

    /** The highest guest frame number the guest can address (vm->max_gfn). */
    long maxGfn();

    /**
     * vm_userspace_mem_region_add(): backs {@code npages} guest pages at {@code gpa} with fresh host memory
     * of the given source and installs it as memslot {@code slot}.
     */
    MemRegion addRegion(BackingSource src, long gpa, int slot, long npages, int flags);

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

    /** addr_gpa2hva(): where the host sees guest physical address {@code gpa}. */
    long gpa2hva(long gpa);

    /** addr_gpa2alias(): the second host mapping of {@code gpa} (shared sources only), or 0. */
    long gpa2alias(long gpa);

    /** Host reads and writes of guest memory by gpa, through the region's host mapping. */
    long read64(long gpa);

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
     * clock, scheduler handoffs and mmu_lock contention in virtual time; nothing on real KVM.
     */
    default java.util.Map<String, Object> backendReport() {
        return java.util.Map.of();
    }

    /**
     * The guest TSC's frequency in kHz, what {@link dev.kvmharness.harness.guest.Insn.ReadTsc} counts in:
     * KVM_GET_TSC_KHZ on kvm; 1 GHz on the simulator, whose guest TSC is its virtual clock in ns.
     */
    long tscKhz();

    /** A snapshot of the VM's and every vCPU's stats, by KVM's binary-stats names. */
    Stats stats();

    /** Demand paging with userfaultfd over part of the host memory (the selftests' userfaultfd_util). */
    DemandPaging demandPaging(DemandPaging.Config config);

    @Override
    void close();
}
