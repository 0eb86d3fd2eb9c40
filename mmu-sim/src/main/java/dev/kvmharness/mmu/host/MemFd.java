// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;

/**
 * A {@code memfd_create()} file, shmem ({@code shmem_file_setup}) or hugetlbfs ({@code MFD_HUGETLB}): an inode
 * whose page cache ({@code address_space->i_pages}) maps file page index to folio. Pages are created on first
 * touch through any mapping, so every {@code MAP_SHARED} mapping of the file sees the same pfns and bytes.
 * The size is fixed at creation (the selftests {@code ftruncate()} once).
 *
 * <p>The file lives while the fd is open or a VMA maps it (each VMA holds a reference on {@code vm_file});
 * when the last reference goes, the page cache is truncated and its pages freed.
 *
 * <p>Memory: a shmem file's page cache reserves a 2 MiB block of pfns per 512 page indexes, so a block is one
 * base pfn plus a presence bitmap (0.13 byte per page); a hugetlbfs file keeps one head pfn per huge page.
 */
public final class MemFd {
    private static final int BLOCK_SHIFT = PhysMem.PMD_ORDER;
    private static final int BLOCK_PAGES = 1 << BLOCK_SHIFT;

    /** 512 consecutive shmem page indexes backed by one reserved, aligned block of 512 pfns. */
    private static final class Block {
        final long base;
        final long[] present = new long[BLOCK_PAGES / 64];

        Block(long base) {
            this.base = base;
        }
    }

    private final PhysMem phys;
    private final String name;
    private final long size;
    private final long pageSize;
    private final int order;
    private final Block[] blocks;   // shmem
    private final long[] heads;     // hugetlbfs: head pfn per huge page, 0 if absent
    private long cachedPages;
    private int refs = 1;           // the fd, plus one per VMA

    /**
     * {@code memfd_create(name, hugePageSize > 4K ? MFD_HUGETLB : 0)} followed by {@code ftruncate(size)}.
     *
     * @param pageSize 4096 for shmem, 2 MiB or 1 GiB for hugetlbfs
     */
    public MemFd(PhysMem phys, String name, long size, long pageSize) {
        this.phys = phys;
        this.name = name;
        this.pageSize = pageSize;
        if (pageSize == PhysMem.PAGE_SIZE) {
            order = 0;
        } else if (pageSize == 1L << 21) {
            order = PhysMem.PMD_ORDER;
        } else if (pageSize == 1L << 30) {
            order = PhysMem.PUD_ORDER;
        } else {
            throw new SimKvmException("memfd_create", KvmErrno.EINVAL, "no hugetlbfs page size " + pageSize);
        }
        if (size <= 0 || size % pageSize != 0) {
            throw new SimKvmException("ftruncate", KvmErrno.EINVAL,
                    "size " + size + " is not a positive multiple of the page size " + pageSize);
        }
        this.size = size;
        long pages = size / pageSize;
        if (order == 0) {
            blocks = new Block[Math.toIntExact((pages + BLOCK_PAGES - 1) >>> BLOCK_SHIFT)];
            heads = null;
        } else {
            blocks = null;
            heads = new long[Math.toIntExact(pages)];
        }
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    /** 4096 for shmem, the huge page size for hugetlbfs. */
    public long pageSize() {
        return pageSize;
    }

    public boolean isHugetlb() {
        return order != 0;
    }

    /** The pfn of the 4 KiB page at byte offset in the page cache ({@code find_get_page}), or -1 if not cached. */
    public long pfnAt(long offset) {
        if (offset < 0 || offset >= size) {
            return -1;
        }
        long head = lookup(offset / pageSize);
        return head < 0 ? -1 : head + ((offset % pageSize) >>> PhysMem.PAGE_SHIFT);
    }

    /** 4 KiB pages held in the page cache. */
    public long cachedPages() {
        return cachedPages;
    }

    /** Closes the fd; the pages go when no VMA maps the file any more. */
    public void close() {
        if (refs > 0) {
            put();
        }
    }

    /** Whether the fd is closed and no mapping is left, so the page cache is gone. */
    public boolean isReleased() {
        return refs == 0;
    }

    // ---- for HostMm and Userfaultfd ----

    int order() {
        return order;
    }

    /** {@code get_file()} for a new VMA. */
    void get() {
        if (refs == 0) {
            throw new IllegalStateException("memfd " + name + " was already released");
        }
        refs++;
    }

    /** {@code fput()}: the last reference truncates the page cache. */
    void put() {
        if (--refs == 0) {
            truncate();
        }
    }

    /** Head pfn of the folio at file page index, or -1 ({@code filemap_get_folio}). */
    long lookup(long index) {
        if (order != 0) {
            long head = heads[(int) index];
            return head == 0 ? -1 : head;
        }
        Block b = blocks[(int) (index >>> BLOCK_SHIFT)];
        int i = (int) (index & (BLOCK_PAGES - 1));
        return b != null && (b.present[i >>> 6] & (1L << i)) != 0 ? b.base + i : -1;
    }

    /** Allocates a zeroed folio for a page index not in the cache and inserts it; returns its head pfn. */
    long create(long index) {
        if (lookup(index) >= 0) {
            throw new IllegalStateException("page " + index + " of " + name + " is already cached");
        }
        long head;
        if (order != 0) {
            head = phys.allocHugetlb(order);
            heads[(int) index] = head;
        } else {
            int bi = (int) (index >>> BLOCK_SHIFT);
            if (blocks[bi] == null) {
                blocks[bi] = new Block(phys.reserve(BLOCK_SHIFT));
            }
            Block b = blocks[bi];
            int i = (int) (index & (BLOCK_PAGES - 1));
            head = b.base + i;
            phys.allocReserved(head);
            b.present[i >>> 6] |= 1L << i;
        }
        cachedPages += 1L << order;
        return head;
    }

    /** Rough heap bytes of the page-cache index. */
    long indexBytes() {
        if (heads != null) {
            return 16L + 8L * heads.length;
        }
        long bytes = 16L + 4L * blocks.length;
        for (Block b : blocks) {
            if (b != null) {
                bytes += 24 + 16 + 8L * b.present.length;
            }
        }
        return bytes;
    }

    private void truncate() {
        if (heads != null) {
            for (int i = 0; i < heads.length; i++) {
                if (heads[i] != 0) {
                    phys.free(heads[i], order);
                    heads[i] = 0;
                }
            }
        } else {
            for (int bi = 0; bi < blocks.length; bi++) {
                Block b = blocks[bi];
                if (b == null) {
                    continue;
                }
                for (int i = 0; i < BLOCK_PAGES; i++) {
                    if ((b.present[i >>> 6] & (1L << i)) != 0) {
                        phys.free(b.base + i, 0);
                    }
                }
                blocks[bi] = null;
            }
        }
        cachedPages = 0;
    }
}
