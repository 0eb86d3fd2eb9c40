// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.HostBuffer;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Mapping;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import dev.kvmharness.sys.SyscallException;

/** kvm_memfd_alloc() mapped MAP_SHARED: a memfd (hugetlbfs at the default huge page size with -H) and its mapping. */
final class KvmHostBuffer implements HostBuffer, AutoCloseable {
    private final OwnedFd fd;
    private final Mapping mapping;

    private KvmHostBuffer(OwnedFd fd, Mapping mapping) {
        this.fd = fd;
        this.mapping = mapping;
    }

    static KvmHostBuffer allocate(long size, boolean hugepages) {
        OwnedFd fd = new OwnedFd(Sys.memfdCreate("kvm_selftest", LibC.MFD_CLOEXEC | (hugepages ? LibC.MFD_HUGETLB : 0)),
                "memfd");
        try {
            Sys.ftruncate(fd.fd(), size);
            // kvm_memfd_alloc() also punches a hole over the fresh file, which changes nothing, so it is left out.
            return new KvmHostBuffer(fd, Mapping.map(size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd.fd(), 0));
        } catch (SyscallException e) {
            fd.close();
            if (hugepages && (e.is(Errno.ENOMEM) || e.is(Errno.EINVAL))) {
                throw new TestSkipped("no free hugepages for a " + size + "-byte hugetlb memfd (" + e.getMessage()
                        + "); reserve them with ci/setup-host.sh");
            }
            throw e;
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    @Override
    public long hva() {
        return mapping.address();
    }

    @Override
    public long size() {
        return mapping.length();
    }

    @Override
    public void madviseNoHugepage() {
        mapping.madvise(0, mapping.length(), LibC.MADV_NOHUGEPAGE);
    }

    @Override
    public void write8(long offset, byte value) {
        mapping.setByte(offset, value);
    }

    @Override
    public long read64(long offset) {
        return mapping.getLong(offset);
    }

    @Override
    public void mprotect(long offset, long len, boolean writable) {
        mapping.mprotect(offset, len, LibC.PROT_READ | (writable ? LibC.PROT_WRITE : 0));
    }

    @Override
    public void munmap(long offset, long len) {
        mapping.unmapPart(offset, len);
    }

    @Override
    public void close() {
        try {
            mapping.close();
        } finally {
            fd.close();
        }
    }
}
