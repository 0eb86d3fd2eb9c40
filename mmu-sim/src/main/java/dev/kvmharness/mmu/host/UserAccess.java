// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * The VMM's own loads and stores through its mapping of guest memory: {@code get_user()} / {@code put_user()},
 * {@code copy_from_user()} / {@code copy_to_user()} and a {@code memset()} of user memory, each faulting like
 * a CPU access ({@code exc_page_fault()} -> {@link MemoryFault}) when the page is not present: the Accessed
 * bit is set, a store dirties the page. Accesses that cross a page boundary are split per page.
 */
final class UserAccess {
    private static final long PAGE = PhysMem.PAGE_SIZE;

    private final PhysMem phys;
    private final HostPageTable pt;
    private final VmaTree vmas;
    private final MemoryFault faults;

    UserAccess(PhysMem phys, HostPageTable pt, VmaTree vmas, MemoryFault faults) {
        this.phys = phys;
        this.pt = pt;
        this.vmas = vmas;
        this.faults = faults;
    }

    /** A user-mode load of width 1, 2, 4 or 8 bytes at hva (little-endian). */
    long read(long hva, int width) {
        checkWidth(width);
        int off = (int) (hva & (PAGE - 1));
        if (off + width <= PAGE) {
            return phys.read(userPage(hva, false), off, width);
        }
        long v = 0;
        for (int i = 0; i < width; i++) {
            v |= read(hva + i, 1) << (8 * i);
        }
        return v;
    }

    /** A user-mode store of width 1, 2, 4 or 8 bytes at hva (little-endian). */
    void write(long hva, int width, long value) {
        checkWidth(width);
        int off = (int) (hva & (PAGE - 1));
        if (off + width <= PAGE) {
            phys.write(userPage(hva, true), off, width, value);
            return;
        }
        for (int i = 0; i < width; i++) {
            write(hva + i, 1, value >>> (8 * i));
        }
    }

    /** {@code memset(hva, b, len)}. */
    void fill(long hva, long len, byte b) {
        for (long done = 0; done < len;) {
            long a = hva + done;
            int off = (int) (a & (PAGE - 1));
            int n = (int) Math.min(len - done, PAGE - off);
            phys.fill(userPage(a, true), off, n, b);
            done += n;
        }
    }

    /** {@code copy_from_user()}. */
    void readBytes(long hva, byte[] dst, int dstOff, int len) {
        for (int done = 0; done < len;) {
            long a = hva + done;
            int off = (int) (a & (PAGE - 1));
            int n = (int) Math.min(len - done, PAGE - off);
            phys.readBytes(userPage(a, false), off, dst, dstOff + done, n);
            done += n;
        }
    }

    /** {@code copy_to_user()}. */
    void writeBytes(long hva, byte[] src, int srcOff, int len) {
        for (int done = 0; done < len;) {
            long a = hva + done;
            int off = (int) (a & (PAGE - 1));
            int n = (int) Math.min(len - done, PAGE - off);
            phys.writeBytes(userPage(a, true), off, src, srcOff + done, n);
            done += n;
        }
    }

    /** The pfn behind a user access at hva; the common case (mapped, permitted) allocates nothing. */
    private long userPage(long hva, boolean write) {
        Vma vma = vmas.find(hva);
        if (vma != null && (vma.writable || !write)) {
            PageWalk w = pt.walk(hva);
            if (w.mapped()) {
                w.markYoung();
                long pfn = w.pfn();
                if (write) {
                    phys.markDirty(pfn);
                }
                return pfn;
            }
        }
        faults.fault(hva, write, false, true, "host access");
        return faults.leafPfn();
    }

    private static void checkWidth(int width) {
        if (width != 1 && width != 2 && width != 4 && width != 8) {
            throw new IllegalArgumentException("width " + width + " is not 1, 2, 4 or 8");
        }
    }
}
