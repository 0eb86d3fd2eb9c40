// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.Pointer;

/**
 * An mmap()ed range this process owns. Accessors check bounds and liveness, so a test that reads a guest
 * page after the VM was destroyed gets an exception rather than a SIGSEGV in the JVM.
 */
public final class Mapping implements AutoCloseable {
    private final Pointer base;
    private final long length;
    private volatile boolean closed;

    private Mapping(Pointer base, long length) {
        this.base = base;
        this.length = length;
    }

    /** mmap(NULL, length, prot, flags, fd, offset). */
    public static Mapping map(long length, int prot, int flags, int fd, long offset) {
        return new Mapping(Sys.mmap(length, prot, flags, fd, offset), length);
    }

    /** Anonymous private read/write memory. */
    public static Mapping anonymous(long length) {
        return map(length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
    }

    /** The host virtual address of the first byte (what KVM calls userspace_addr / hva). */
    public long address() {
        check(0, 0);
        return Pointer.nativeValue(base);
    }

    public long length() {
        return length;
    }

    /** A native pointer into the mapping, for calls that take one; valid only while the mapping is open. */
    public Pointer pointer(long offset) {
        check(offset, 0);
        return base.share(offset);
    }

    public long getLong(long offset) {
        check(offset, 8);
        return base.getLong(offset);
    }

    public void setLong(long offset, long value) {
        check(offset, 8);
        base.setLong(offset, value);
    }

    public int getInt(long offset) {
        check(offset, 4);
        return base.getInt(offset);
    }

    public void setInt(long offset, int value) {
        check(offset, 4);
        base.setInt(offset, value);
    }

    public byte getByte(long offset) {
        check(offset, 1);
        return base.getByte(offset);
    }

    public void setByte(long offset, byte value) {
        check(offset, 1);
        base.setByte(offset, value);
    }

    public void write(long offset, byte[] src, int from, int len) {
        check(offset, len);
        base.write(offset, src, from, len);
    }

    public void read(long offset, byte[] dst, int from, int len) {
        check(offset, len);
        base.read(offset, dst, from, len);
    }

    /** Fills {@code len} bytes with {@code value} (memset). */
    public void fill(long offset, long len, byte value) {
        check(offset, len);
        base.setMemory(offset, len, value);
    }

    /** madvise(2) over part of the mapping. */
    public void madvise(long offset, long len, int advice) {
        check(offset, len);
        Sys.madvise(base.share(offset), len, advice);
    }

    /** mprotect(2) over part of the mapping. */
    public void mprotect(long offset, long len, int prot) {
        check(offset, len);
        Sys.mprotect(base.share(offset), len, prot);
    }

    /**
     * munmap(2) of part of the mapping. The rest stays usable; the caller must not touch the unmapped part
     * again (close() unmaps the whole range, which the kernel accepts for holes).
     */
    public void unmapPart(long offset, long len) {
        check(offset, len);
        Sys.munmap(base.share(offset), len);
    }

    public boolean isClosed() {
        return closed;
    }

    private void check(long offset, long len) {
        if (closed) {
            throw new IllegalStateException("mapping at 0x" + Long.toHexString(Pointer.nativeValue(base)) + " is unmapped");
        }
        if (offset < 0 || len < 0 || offset + len > length) {
            throw new IndexOutOfBoundsException("offset " + offset + " + " + len + " outside mapping of " + length + " bytes");
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Sys.munmap(base, length);
    }
}
