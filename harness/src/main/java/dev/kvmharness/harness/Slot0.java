// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.harness.x86.GuestPhysicalMemory;
import dev.kvmharness.harness.x86.PageSize;
import dev.kvmharness.harness.x86.X86PageTables;

/**
 * Memslot 0 once it exists, built the same way on both backends so the guest sees one layout. It has two
 * parts, like the C library's two uses of slot 0:
 * <ul>
 *   <li>the <em>data area</em> at the bottom ({@link Slot0Layout#dataPages}: code, descriptor tables, stacks,
 *       harness data), identity mapped, from which {@link #vaddrAlloc} hands out pages (gva == gpa);</li>
 *   <li>the <em>page-table area</em> above it, from which the guest page tables are allocated. The guest only
 *       reaches those pages through the hardware page walk, by physical address, so they are never mapped into
 *       the guest's virtual address space (the C library likewise allocates them with vm_phy_page_alloc() and
 *       never virt-maps them).</li>
 * </ul>
 * Identity mapping all of slot 0 instead would put guest-virtual mappings wherever slot 0 reaches: a slot 0
 * sized for the page tables of a 2 TiB test region ends above 3 GiB and collides with the test region's
 * mapping at 0xc0000000.
 *
 * @param allocator hands out data-area pages, page 0 excluded
 * @param tableAllocator hands out page-table-area pages
 * @param pageTables the guest's page tables, written into guest memory
 * @param pageSize the guest page size
 */
public record Slot0(PhysPageAllocator allocator, PhysPageAllocator tableAllocator, X86PageTables pageTables,
                    long pageSize) {
    /**
     * Builds them over {@code mem}'s slot 0 of {@code slot0Pages} pages (a {@link Vm} whose slot 0 is added, or
     * any guest physical memory in unit tests), mapping the first {@code dataPages} of it with pages up to
     * {@code mapWith} (the largest the guest CPU offers) and using {@code levels}-level paging (4, or 5 for LA57).
     */
    public static Slot0 build(GuestPhysicalMemory mem, long slot0Pages, long dataPages, long pageSize,
                              PageSize mapWith, int levels) {
        if (dataPages < 2 || dataPages >= slot0Pages) {
            throw new IllegalArgumentException("slot 0 of " + slot0Pages + " pages cannot hold a data area of "
                    + dataPages + " pages and page tables");
        }
        long dataEnd = Slot0Layout.BASE_GPA + dataPages * pageSize;
        long end = Slot0Layout.BASE_GPA + slot0Pages * pageSize;
        // Page 0 stays unused so that a null pointer in the guest is not silently valid data.
        PhysPageAllocator allocator = new PhysPageAllocator(Slot0Layout.BASE_GPA + pageSize, dataEnd, pageSize);
        PhysPageAllocator tables = new PhysPageAllocator(dataEnd, end, pageSize);
        X86PageTables pt = new X86PageTables(mem, tables::allocPage, levels);
        pt.mapRange(Slot0Layout.BASE_GPA, Slot0Layout.BASE_GPA, dataEnd - Slot0Layout.BASE_GPA, mapWith);
        return new Slot0(allocator, tables, pt, pageSize);
    }

    /** vm_vaddr_alloc() for harness data: whole pages of the data area, identity mapped (gva == gpa). */
    public long vaddrAlloc(long bytes) {
        return allocator.alloc((bytes + pageSize - 1) / pageSize);
    }

    /** virt_map() with 4K pages. */
    public void virtMap(long gva, long gpa, long bytes) {
        pageTables.mapRange(gva, gpa, bytes, PageSize.SIZE_4K);
    }

    /** virt_map() with pages up to {@code largest} (__virt_pg_map with PG_LEVEL_2M / PG_LEVEL_1G). */
    public void virtMap(long gva, long gpa, long bytes, PageSize largest) {
        pageTables.mapRange(gva, gpa, bytes, largest);
    }
}
