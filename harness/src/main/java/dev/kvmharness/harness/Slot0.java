// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.harness.x86.GuestPhysicalMemory;
import dev.kvmharness.harness.x86.PageSize;
import dev.kvmharness.harness.x86.X86PageTables;

/**
 * Memslot 0 once it exists: the page allocator for harness data (vm_vaddr_alloc) and the guest page tables,
 * with slot 0 itself identity mapped, built the same way on both backends so the guest sees one layout.
 *
 * @param allocator hands out slot-0 pages, page 0 excluded
 * @param pageTables the guest's 4-level page tables, written into guest memory
 * @param pageSize the guest page size
 */
public record Slot0(PhysPageAllocator allocator, X86PageTables pageTables, long pageSize) {
    /**
     * Builds them over {@code vm}'s already-added slot 0 of {@code slot0Pages} pages, mapping slot 0 with
     * {@code mapWith} pages (the largest the guest CPU offers).
     */
    public static Slot0 build(Vm vm, long slot0Pages, long pageSize, PageSize mapWith) {
        long end = Slot0Layout.BASE_GPA + slot0Pages * pageSize;
        // Page 0 stays unused so that a null pointer in the guest is not silently valid data.
        PhysPageAllocator allocator = new PhysPageAllocator(Slot0Layout.BASE_GPA + pageSize, end, pageSize);
        GuestPhysicalMemory mem = new GuestPhysicalMemory() {
            @Override
            public long read64(long gpa) {
                return vm.read64(gpa);
            }

            @Override
            public void write64(long gpa, long value) {
                vm.write64(gpa, value);
            }
        };
        X86PageTables pt = new X86PageTables(mem, allocator::allocPage, 4);
        pt.mapRange(Slot0Layout.BASE_GPA, Slot0Layout.BASE_GPA, end - Slot0Layout.BASE_GPA, mapWith);
        return new Slot0(allocator, pt, pageSize);
    }

    /** vm_vaddr_alloc() for harness data: whole pages of slot 0, identity mapped (gva == gpa). */
    public long vaddrAlloc(long bytes) {
        return allocator.alloc((bytes + pageSize - 1) / pageSize);
    }

    /** virt_map() with 4K pages. */
    public void virtMap(long gva, long gpa, long bytes) {
        pageTables.mapRange(gva, gpa, bytes, PageSize.SIZE_4K);
    }
}
