// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.harness.x86.PageSize;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * What lib/kvm_util.c's struct kvm_vm does the same way on both backends, written once: the shape, the memslots
 * (vm->regions) with vm_userspace_mem_region_add()'s checks, vm_mem_region_move() and vm_mem_region_delete(),
 * slot 0 with the guest page tables (vm_vaddr_alloc(), virt_map()), the vCPUs' stacks, addr_gpa2hva() and
 * addr_gpa2alias(). A backend supplies how a memslot's host memory is made and freed ({@link #installRegion},
 * {@link #unmapHostMemory}), how KVM_SET_USER_MEMORY_REGION reaches KVM ({@link #setUserMemoryRegion}) and
 * everything about vCPUs, stats and host access to guest memory.
 *
 * <p>Nothing here takes a lock: on the simulator a thread blocked on a Java monitor, outside the scheduler, would
 * stall the whole simulation, so the kvm backend adds its locking by overriding.
 *
 * @param <R> the backend's memslot type
 * @param <V> the backend's vCPU type
 */
public abstract class AbstractVm<R extends MemRegion, V extends Vcpu> implements Vm {
    private final VmShape shape;
    private final HostCaps caps;
    private final long pageSize;
    private final MemRegions<R> regions = new MemRegions<>();
    private final List<V> vcpus = new ArrayList<>();
    private Slot0 slot0;

    /** A VM of {@code shape} on a host offering {@code caps}; the subclass builds it with {@link #addSlot0}. */
    protected AbstractVm(VmShape shape, HostCaps caps) {
        this.shape = shape;
        this.caps = caps;
        this.pageSize = shape.mode().pageSize();
    }

    protected final VmShape shape() {
        return shape;
    }

    protected final HostCaps caps() {
        return caps;
    }

    /** The guest page size (vm->page_size). */
    protected final long pageSize() {
        return pageSize;
    }

    protected final MemRegions<R> regions() {
        return regions;
    }

    /** A new page table's clearing: one memset of the host mapping. */
    @Override
    public void zero(long gpa, long bytes) {
        fill(gpa, bytes, (byte) 0);
    }

    /** Slot 0 once {@link #addSlot0} has built it. */
    protected final Slot0 slot0() {
        return slot0;
    }

    /** The vCPUs in creation order; the subclass adds them while it builds the VM. */
    protected final List<V> vcpuList() {
        return vcpus;
    }

    /**
     * __vm_create(): memslot 0, anonymous memory sized for the shape's vCPUs and extra pages, then its page tables
     * ({@link Slot0#build}), the data area mapped with pages up to {@code mapWith}, with {@code levels}-level paging.
     */
    protected final Slot0 addSlot0(PageSize mapWith, int levels) {
        long slot0Pages = Slot0Layout.pagesRequired(shape.nrVcpus(), shape.extraMemPages());
        addRegion(BackingSource.ANONYMOUS, Slot0Layout.BASE_GPA, 0, slot0Pages, 0);
        slot0 = Slot0.build(this, slot0Pages, Slot0Layout.dataPages(shape.nrVcpus()), pageSize, mapWith, levels);
        return slot0;
    }

    /**
     * vm_vcpu_add()'s stack: {@link Slot0Layout#STACK_PAGES} pages of the data area. Returns the initial RSP, the
     * top minus 8, since the System V ABI wants (rsp + 8) 16-byte aligned at a function's entry.
     */
    protected final long allocVcpuStack() {
        long stack = slot0.allocator().alloc(Slot0Layout.STACK_PAGES);
        return stack + Slot0Layout.STACK_PAGES * pageSize - 8;
    }

    /**
     * The backend's half of vm_userspace_mem_region_add(), after the checks: allocates {@code size} bytes of host
     * memory from {@code src}, installs them as memslot {@code slot} at {@code gpa}, and returns the region.
     * It must free the memory again if KVM refuses the slot.
     */
    protected abstract R installRegion(BackingSource src, int slot, long gpa, long size, int flags);

    /** {@code r}'s memslot and memory at {@code newGpa}, after KVM moved it there. */
    protected abstract R movedTo(R r, long newGpa);

    /** munmap() of {@code r}'s host memory (and its alias mapping). */
    protected abstract void unmapHostMemory(R r);

    /** {@code r}'s memslot and memory with {@code flags}, after KVM took them (vm_mem_region_set_flags()). */
    protected abstract R withFlags(R r, int flags);

    /** The words kvm_clear_dirty_log() reads for {@code numPages} pages (u32); the caller's bitmap must have them. */
    protected static int clearDirtyLogWords(long[] bitmap, int numPages) {
        long words = (Integer.toUnsignedLong(numPages) + 63) / 64;
        if (bitmap.length < words) {
            throw new IllegalArgumentException("KVM_CLEAR_DIRTY_LOG of " + Integer.toUnsignedString(numPages)
                    + " pages reads " + words + " bitmap words, the bitmap has " + bitmap.length);
        }
        return (int) words;
    }

    @Override
    public GuestMode mode() {
        return shape.mode();
    }

    @Override
    public long maxGfn() {
        return caps.maxGfn(pageSize);
    }

    /** The largest guest page the vCPU's CPUID offers: 1 GiB only with CPUID 0x80000001 EDX.PDPE1GB. */
    @Override
    public PageSize largestGuestPage() {
        return caps.gbPages() ? PageSize.SIZE_1G : PageSize.SIZE_2M;
    }

    @Override
    public MemRegion addRegion(BackingSource src, long gpa, int slot, long npages, int flags) {
        long size = npages * pageSize;
        regions.checkNew(slot, gpa, size, npages);
        R region = installRegion(src, slot, gpa, size, flags);
        regions.put(region);
        return region;
    }

    @Override
    public void memRegionMove(int slot, long newGpa) {
        R r = regions.slot(slot);
        setUserMemoryRegion(slot, r.flags(), newGpa, r.size(), r.hva());
        regions.put(movedTo(r, newGpa));
    }

    @Override
    public void memRegionSetFlags(int slot, int flags) {
        R r = regions.slot(slot);
        setUserMemoryRegion(slot, flags, r.gpa(), r.size(), r.hva());
        regions.put(withFlags(r, flags));
    }

    @Override
    public void memRegionDelete(int slot) {
        R r = regions.slot(slot);
        setUserMemoryRegion(slot, r.flags(), r.gpa(), 0, r.hva());
        regions.remove(slot);
        // KVM no longer references the memory: vm_mem_region_delete() frees it at once too.
        unmapHostMemory(r);
    }

    @Override
    public void munmapRegionMemory(int slot) {
        unmapHostMemory(regions.slot(slot));
    }

    @Override
    public R region(int slot) {
        return regions.slot(slot);
    }

    @Override
    public long vaddrAlloc(long bytes) {
        return slot0.vaddrAlloc(bytes);
    }

    @Override
    public void virtMap(long gva, long gpa, long bytes) {
        slot0.virtMap(gva, gpa, bytes);
    }

    @Override
    public void virtMap(long gva, long gpa, long bytes, PageSize largest) {
        slot0.virtMap(gva, gpa, bytes, largest);
    }

    @Override
    public long gpa2hva(long gpa) {
        return regions.hva(gpa);
    }

    @Override
    public long gpa2alias(long gpa) {
        return regions.alias(gpa);
    }

    /** addr_arch_gva2gpa() on the page tables the harness wrote into slot 0. */
    @Override
    public long gva2gpa(long gva) {
        OptionalLong gpa = slot0.pageTables().translate(gva);
        TestAssertionFailure.check(gpa.isPresent(), "*pte & PTE_PRESENT_MASK", "Leaf PTE not PRESENT for gva: 0x%08x", gva);
        return gpa.getAsLong();
    }

    @Override
    public List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }
}
