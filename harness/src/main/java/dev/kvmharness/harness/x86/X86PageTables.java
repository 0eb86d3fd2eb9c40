// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * Guest page tables for x86-64 4-level (CR4.LA57 = 0) or 5-level (CR4.LA57 = 1) paging, written into guest
 * physical memory the way the selftests' virt_pg_map() does, so that the guest can run with paging on from its
 * first instruction. Every entry is Present|Writable, supervisor-only and executable; leaves above 4 KiB set
 * PS. Physical addresses may use up to {@value #MAX_PHYS_BITS} bits.
 *
 * <p>Tables come from a page allocator that returns the gpa of a fresh 4 KiB page; each new table is cleared
 * here anyway, so a stale entry can never silently map garbage.
 */
public final class X86PageTables {
    public static final long PTE_PRESENT = 1L;
    public static final long PTE_WRITABLE = 1L << 1;
    /** PS: the entry maps a 2 MiB (PDE) or 1 GiB (PDPTE) page rather than pointing at a table. */
    public static final long PTE_LARGE = 1L << 7;
    public static final int MAX_PHYS_BITS = 52;
    /** Bits 51:12 of an entry: the address of the next table or of a 4 KiB page. */
    public static final long PTE_ADDR_MASK = ((1L << MAX_PHYS_BITS) - 1) & ~0xFFFL;

    private static final int ENTRIES = 512;
    private static final long TABLE_BYTES = 4096;

    private final GuestPhysicalMemory memory;
    private final LongSupplier allocPage;
    private final int levels;
    private final long root;
    private int tablePages;
    /**
     * @param memory where the tables live
     * @param allocPage returns the gpa of a fresh, 4 KiB aligned guest page for each new table
     * @param levels 4 or 5
     */
    public X86PageTables(GuestPhysicalMemory memory, LongSupplier allocPage, int levels) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.allocPage = Objects.requireNonNull(allocPage, "allocPage");
        if (levels != 4 && levels != 5) {
            throw new IllegalArgumentException("x86-64 paging has 4 or 5 levels, not " + levels);
        }
        this.levels = levels;
        this.root = newTable();
    }

    /** The value for CR3: the root table's gpa (PCID 0, no PWT/PCD). */
    public long cr3() {
        return root;
    }

    public int levels() {
        return levels;
    }

    /** Table pages allocated so far, the root included. */
    public int tablePages() {
        return tablePages;
    }

    /** Bits of virtual address a canonical address sign-extends from: 48 with 4 levels, 57 with 5. */
    public int virtualAddressBits() {
        return 12 + 9 * levels;
    }

    public boolean isCanonical(long gva) {
        int unused = 64 - virtualAddressBits();
        return (gva << unused) >> unused == gva;
    }

    /**
     * Maps one page at {@code gva} to {@code gpa}.
     *
     * @throws IllegalArgumentException if either address is not aligned to {@code size}, {@code gva} is not
     *     canonical, or the page extends past the 52-bit physical address space
     * @throws IllegalStateException if any part of the page is already mapped, by a leaf or by a lower-level
     *     table under the entry this page needs
     */
    public void map(long gva, long gpa, PageSize size) {
        Objects.requireNonNull(size, "size");
        mapPage(gva, gpa, size);
    }

    private void mapPage(long gva, long gpa, PageSize size) {
        checkMappable(gva, gpa, size);
        long table = leafTable(gva, size);
        long entryGpa = table + index(gva, size.level()) * 8L;
        long entry = memory.read64(entryGpa);
        if ((entry & PTE_PRESENT) != 0) {
            throw alreadyMapped(gva, size, entry, entryGpa);
        }
        memory.write64(entryGpa, leafEntry(gpa, size));
    }

    private void checkMappable(long gva, long gpa, PageSize size) {
        if (!isCanonical(gva)) {
            throw new IllegalArgumentException("gva 0x" + hex(gva) + " is not canonical for " + levels + "-level paging");
        }
        if (!size.aligns(gva) || !size.aligns(gpa)) {
            throw new IllegalArgumentException(size + " mapping needs " + size.bytes() + "-byte alignment: gva 0x"
                    + hex(gva) + " gpa 0x" + hex(gpa));
        }
        if (gpa < 0 || gpa + size.bytes() > 1L << MAX_PHYS_BITS) {
            throw new IllegalArgumentException("gpa 0x" + hex(gpa) + " + " + size + " beyond the " + MAX_PHYS_BITS
                    + "-bit physical address space");
        }
    }

    private static long leafEntry(long gpa, PageSize size) {
        return gpa | PTE_PRESENT | PTE_WRITABLE | (size == PageSize.SIZE_4K ? 0 : PTE_LARGE);
    }

    private static IllegalStateException alreadyMapped(long gva, PageSize size, long entry, long entryGpa) {
        boolean leaf = size == PageSize.SIZE_4K || (entry & PTE_LARGE) != 0;
        return new IllegalStateException("cannot map " + size + " at gva 0x" + hex(gva) + ": "
                + (leaf ? "already mapped to gpa 0x" + hex(entry & PTE_ADDR_MASK & ~(size.bytes() - 1))
                        : "smaller pages are already mapped inside it")
                + " (level-" + size.level() + " entry at gpa 0x" + hex(entryGpa) + ")");
    }

    /** The table holding gva's entry at size's level: a walk from the root that creates missing tables. */
    private long leafTable(long gva, PageSize size) {
        long table = root;
        for (int level = levels; level > size.level(); level--) {
            long entryGpa = table + index(gva, level) * 8L;
            long entry = memory.read64(entryGpa);
            if ((entry & PTE_PRESENT) == 0) {
                long next = newTable();
                memory.write64(entryGpa, next | PTE_PRESENT | PTE_WRITABLE);
                table = next;
            } else if (level <= 3 && (entry & PTE_LARGE) != 0) {
                throw new IllegalStateException("cannot map " + size + " at gva 0x" + hex(gva) + ": already inside a "
                        + PageSize.ofLevel(level) + " page (level-" + level + " entry at gpa 0x" + hex(entryGpa) + ")");
            } else {
                table = entry & PTE_ADDR_MASK;
            }
        }
        return table;
    }

    /**
     * Maps {@code bytes} at {@code gva} to {@code gpa}, each step with the largest page size up to
     * {@code largest} that both current addresses are aligned to and that the remaining length covers. Not
     * atomic: if a page in the middle is already mapped, the pages before it stay mapped.
     *
     * @throws IllegalArgumentException if the addresses or length are not 4 KiB multiples, or as {@link #map}
     * @throws IllegalStateException as {@link #map}
     */
    public void mapRange(long gva, long gpa, long bytes, PageSize largest) {
        Objects.requireNonNull(largest, "largest");
        PageSize small = PageSize.SIZE_4K;
        if (!small.aligns(gva) || !small.aligns(gpa) || !small.aligns(bytes) || bytes < 0) {
            throw new IllegalArgumentException("mapRange needs 4 KiB aligned addresses and length: gva 0x" + hex(gva)
                    + " gpa 0x" + hex(gpa) + " bytes 0x" + hex(bytes));
        }
        mapSteps(gva, gpa, bytes, largest);
    }

    /**
     * The steps of {@link #mapRange}, one leaf table at a time: after the first step in a table every further
     * one there has the same size (a larger page would need the index to be 0 again), so the table is walked
     * to once and its entries are read and written as one block, as a memcpy into the mapping would.
     */
    private void mapSteps(long gva, long gpa, long remaining, PageSize largest) {
        PageSize[] sizes = PageSize.values();
        long[] entries = new long[ENTRIES];
        while (remaining != 0) {
            PageSize chosen = PageSize.SIZE_4K;
            for (int i = largest.ordinal(); i > 0; i--) {
                PageSize s = sizes[i];
                if (s.aligns(gva) && s.aligns(gpa) && Long.compareUnsigned(remaining, s.bytes()) >= 0) {
                    chosen = s;
                    break;
                }
            }
            checkMappable(gva, gpa, chosen);
            long table = leafTable(gva, chosen);
            int first = index(gva, chosen.level());
            int n = (int) Math.min(ENTRIES - first, Long.divideUnsigned(remaining, chosen.bytes()));
            long firstGpa = table + first * 8L;
            memory.readWords(firstGpa, entries, n);
            int mapped = 0;
            RuntimeException stop = null;
            for (; mapped < n; mapped++) {
                long stepGva = gva + mapped * chosen.bytes();
                long stepGpa = gpa + mapped * chosen.bytes();
                try {
                    checkMappable(stepGva, stepGpa, chosen);
                } catch (IllegalArgumentException e) {
                    stop = e;
                    break;
                }
                if ((entries[mapped] & PTE_PRESENT) != 0) {
                    stop = alreadyMapped(stepGva, chosen, entries[mapped], firstGpa + mapped * 8L);
                    break;
                }
                entries[mapped] = leafEntry(stepGpa, chosen);
            }
            // Not atomic, as one map() per page would be: the pages before a failing one stay mapped.
            memory.writeWords(firstGpa, entries, mapped);
            if (stop != null) {
                throw stop;
            }
            gva += n * chosen.bytes();
            gpa += n * chosen.bytes();
            remaining -= n * chosen.bytes();
        }
    }

    /** The gpa {@code gva} maps to, or empty if it is unmapped or not canonical. */
    public OptionalLong translate(long gva) {
        Optional<Translation> t = walk(gva);
        return t.isPresent() ? OptionalLong.of(t.get().gpa()) : OptionalLong.empty();
    }

    /**
     * A software page walk from {@link #cr3()}, honouring PS at the PDPT and PD levels, as the MMU would do
     * it (minus permission and reserved-bit checks beyond PS above level 3, which makes the walk fail).
     */
    public Optional<Translation> walk(long gva) {
        if (!isCanonical(gva)) {
            return Optional.empty();
        }
        long table = root;
        for (int level = levels; level >= 1; level--) {
            long entryGpa = table + index(gva, level) * 8L;
            long entry = memory.read64(entryGpa);
            if ((entry & PTE_PRESENT) == 0) {
                return Optional.empty();
            }
            boolean large = (entry & PTE_LARGE) != 0;
            if (large && level > 3) {
                return Optional.empty();
            }
            if (level == 1 || large) {
                PageSize size = PageSize.ofLevel(level);
                long offsetMask = size.bytes() - 1;
                long base = entry & PTE_ADDR_MASK & ~offsetMask;
                return Optional.of(new Translation(base | (gva & offsetMask), size, entryGpa));
            }
            table = entry & PTE_ADDR_MASK;
        }
        throw new AssertionError("unreachable: level 1 always ends the walk");
    }

    /** The 9-bit table index {@code gva} selects at paging level {@code level} (1 = page table). */
    static int index(long gva, int level) {
        return (int) (gva >>> (12 + 9 * (level - 1))) & (ENTRIES - 1);
    }

    private long newTable() {
        long gpa = allocPage.getAsLong();
        if (!PageSize.SIZE_4K.aligns(gpa) || gpa < 0 || gpa >= 1L << MAX_PHYS_BITS) {
            throw new IllegalStateException("page allocator returned unusable table address 0x" + hex(gpa));
        }
        memory.zero(gpa, TABLE_BYTES);
        tablePages++;
        return gpa;
    }

    private static String hex(long v) {
        return Long.toHexString(v);
    }
}
