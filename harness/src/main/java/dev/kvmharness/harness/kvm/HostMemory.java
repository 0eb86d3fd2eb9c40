// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Mapping;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import dev.kvmharness.sys.SyscallException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host memory behind one memslot, allocated per backing source as vm_mem_add() does: private anonymous
 * memory with THP off or on, hugetlb, or a memfd (shmem or hugetlbfs) mapped twice (the second mapping is
 * the alias through which uffd MINOR mode pre-populates the page cache).
 */
final class HostMemory implements AutoCloseable {
    /** thp_configured(): the kernel was built with transparent hugepages. */
    private static final boolean THP_CONFIGURED =
            Files.exists(Path.of("/sys/kernel/mm/transparent_hugepage"));

    private final BackingSource source;
    private final Mapping mapping;
    private final Mapping aliasMapping;
    private final OwnedFd memfd;
    /** Offset of the first usable byte in {@link #mapping}: THP needs the hva aligned to 2 MiB. */
    private final long alignOffset;
    private final long size;

    private HostMemory(BackingSource source, Mapping mapping, Mapping alias, OwnedFd memfd, long alignOffset, long size) {
        this.source = source;
        this.mapping = mapping;
        this.aliasMapping = alias;
        this.memfd = memfd;
        this.alignOffset = alignOffset;
        this.size = size;
    }

    static HostMemory allocate(BackingSource src, long size) {
        if (size % src.pageSize() != 0) {
            throw new IllegalArgumentException(String.format("size 0x%x is not a multiple of the %s page size 0x%x",
                    size, src.cliName(), src.pageSize()));
        }
        try {
            switch (src) {
                case ANONYMOUS:
                case ANONYMOUS_THP: {
                    boolean thp = src == BackingSource.ANONYMOUS_THP;
                    long pad = thp ? src.pageSize() : 0;
                    Mapping m = Mapping.map(size + pad, LibC.PROT_READ | LibC.PROT_WRITE,
                            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
                    long off = thp ? alignUp(m.address(), pad) - m.address() : 0;
                    try {
                        // As vm_mem_add(): THP on or off explicitly, where the kernel has THP at all.
                        if (THP_CONFIGURED) {
                            m.madvise(off, size, thp ? LibC.MADV_HUGEPAGE : LibC.MADV_NOHUGEPAGE);
                        }
                    } catch (RuntimeException e) {
                        m.close();
                        throw e;
                    }
                    return new HostMemory(src, m, null, null, off, size);
                }
                case ANONYMOUS_HUGETLB:
                case ANONYMOUS_HUGETLB_2MB:
                case ANONYMOUS_HUGETLB_1GB: {
                    Mapping m = Mapping.map(size, LibC.PROT_READ | LibC.PROT_WRITE,
                            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_HUGETLB | hugeFlag(src), -1, 0);
                    return new HostMemory(src, m, null, null, 0, size);
                }
                case SHMEM:
                case SHARED_HUGETLB: {
                    boolean huge = src == BackingSource.SHARED_HUGETLB;
                    OwnedFd fd = new OwnedFd(Sys.memfdCreate("kvm_selftest", LibC.MFD_CLOEXEC
                            | (huge ? LibC.MFD_HUGETLB | hugeFlag(src) : 0)), "memfd");
                    try {
                        Sys.ftruncate(fd.fd(), size);
                        Mapping m = Mapping.map(size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd.fd(), 0);
                        try {
                            Mapping alias = Mapping.map(size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd.fd(), 0);
                            return new HostMemory(src, m, alias, fd, 0, size);
                        } catch (RuntimeException e) {
                            m.close();
                            throw e;
                        }
                    } catch (RuntimeException e) {
                        fd.close();
                        throw e;
                    }
                }
                default:
                    throw new IllegalArgumentException("unhandled backing source " + src);
            }
        } catch (SyscallException e) {
            if (src.isHugetlb() && (e.is(Errno.ENOMEM) || e.is(Errno.EINVAL))) {
                throw new TestSkipped(String.format("%s: no free %d KiB hugepages for %d bytes (%s); "
                        + "reserve them with ci/setup-host.sh", src.cliName(), src.pageSize() >> 10, size, e.getMessage()));
            }
            throw e;
        }
    }

    /** MAP_HUGE_2MB / MAP_HUGE_1GB: log2 of the page size in the top bits of the flags. */
    private static int hugeFlag(BackingSource src) {
        if (src.usesDefaultHugepageSize()) {
            return 0;
        }
        return Long.numberOfTrailingZeros(src.pageSize()) << LibC.MAP_HUGE_SHIFT;
    }

    private static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }

    long hva() {
        return mapping.address() + alignOffset;
    }

    long aliasHva() {
        return aliasMapping == null ? 0 : aliasMapping.address();
    }

    long size() {
        return size;
    }

    BackingSource source() {
        return source;
    }

    long read64(long offset) {
        return mapping.getLong(alignOffset + offset);
    }

    void madvise(long offset, long len, int advice) {
        mapping.madvise(alignOffset + offset, len, advice);
    }

    void write64(long offset, long value) {
        mapping.setLong(alignOffset + offset, value);
    }

    void write(long offset, byte[] bytes) {
        mapping.write(alignOffset + offset, bytes, 0, bytes.length);
    }

    void fill(long offset, long len, byte value) {
        mapping.fill(alignOffset + offset, len, value);
    }

    /** Fills through the alias mapping (shared sources only): populates the page cache without a fault here. */
    void fillAlias(long offset, long len, byte value) {
        if (aliasMapping == null) {
            throw new IllegalStateException(source.cliName() + " memory has no alias mapping");
        }
        aliasMapping.fill(offset, len, value);
    }

    @Override
    public void close() {
        try {
            mapping.close();
            if (aliasMapping != null) {
                aliasMapping.close();
            }
        } finally {
            if (memfd != null) {
                memfd.close();
            }
        }
    }
}
