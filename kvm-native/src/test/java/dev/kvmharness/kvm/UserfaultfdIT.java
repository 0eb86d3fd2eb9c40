// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.kvmharness.kvm.bindings.Uffd;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.EventFd;
import dev.kvmharness.sys.IoctlException;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Mapping;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * userfaultfd on real memory: a thread touches a registered page, a reader resolves it with COPY (MISSING) or
 * CONTINUE (MINOR) and the toucher sees the data. Not KVM-specific, but it is the demand-paging machinery.
 */
class UserfaultfdIT {
    private static final int PAGE = 4096;

    /** Reads the first byte of {@code addr} on another thread: blocks in the kernel until the fault is resolved. */
    private static CompletableFuture<Byte> touch(long addr) {
        return CompletableFuture.supplyAsync(() -> new Pointer(addr).getByte(0));
    }

    @Test
    void missingFaultResolvedWithCopy() throws Exception {
        try (Userfaultfd uffd = Userfaultfd.create(0); Mapping mem = Mapping.anonymous(4 * PAGE); EventFd stop = new EventFd()) {
            long ioctls = uffd.register(mem.address(), 4 * PAGE, Uffd.UFFDIO_REGISTER_MODE_MISSING);
            assertThat(ioctls & Uffd.ioctlBit(Uffd.NR_COPY)).isNotZero();
            Memory src = new Memory(PAGE);
            src.setMemory(0, PAGE, (byte) 0xAB);
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> uffd.serve(stop, (fd, scratch, msg) -> {
                assertThat(msg.address()).isEqualTo(mem.address() + PAGE);
                fd.copy(scratch, msg.address() & -PAGE, Pointer.nativeValue(src), PAGE, 0);
            }));
            assertThat(touch(mem.address() + PAGE).get(10, TimeUnit.SECONDS)).isEqualTo((byte) 0xAB);
            // A second COPY of the same page: EEXIST, the case the selftest tolerates.
            assertThatThrownBy(() -> uffd.copy(new Userfaultfd.Scratch(), mem.address() + PAGE, Pointer.nativeValue(src), PAGE, 0))
                    .isInstanceOfSatisfying(IoctlException.class, e -> {
                        assertThat(e.ioctl()).isEqualTo("UFFDIO_COPY");
                        assertThat(Userfaultfd.alreadyResolved(e)).isTrue();
                    });
            uffd.zeropage(mem.address() + 2 * PAGE, PAGE);
            assertThat(mem.getLong(2 * PAGE)).isZero();
            stop.signal();
            assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @Test
    void minorFaultResolvedWithContinue() throws Exception {
        OwnedFd memfd = new OwnedFd(Sys.memfdCreate("uffd-minor", LibC.MFD_CLOEXEC), "memfd");
        Sys.ftruncate(memfd.fd(), 2 * PAGE);
        try (memfd; Userfaultfd uffd = Userfaultfd.create(Uffd.UFFD_FEATURE_MINOR_SHMEM);
             Mapping mem = Mapping.map(2 * PAGE, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, memfd.fd(), 0);
             Mapping alias = Mapping.map(2 * PAGE, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, memfd.fd(), 0);
             EventFd stop = new EventFd()) {
            assertThat(uffd.features() & Uffd.UFFD_FEATURE_MINOR_SHMEM).isNotZero();
            alias.fill(0, 2 * PAGE, (byte) 0x5A);
            long ioctls = uffd.register(mem.address(), 2 * PAGE, Uffd.UFFDIO_REGISTER_MODE_MINOR);
            assertThat(ioctls & Uffd.ioctlBit(Uffd.NR_CONTINUE)).isNotZero();
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> uffd.serve(stop, (fd, scratch, msg) -> {
                assertThat(msg.isMinor()).isTrue();
                fd.cont(scratch, msg.address() & -PAGE, PAGE);
            }));
            assertThat(touch(mem.address()).get(10, TimeUnit.SECONDS)).isEqualTo((byte) 0x5A);
            stop.signal();
            assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @Test
    void registerOutsideAMappingFails() {
        try (Userfaultfd uffd = Userfaultfd.create(0)) {
            assertThatThrownBy(() -> uffd.register(0x1000, PAGE, Uffd.UFFDIO_REGISTER_MODE_MISSING))
                    .isInstanceOfSatisfying(IoctlException.class, e -> {
                        assertThat(e.ioctl()).isEqualTo("UFFDIO_REGISTER");
                        assertThat(e.symbol()).isIn(Errno.EINVAL, Errno.ENOMEM);
                    });
        }
    }
}
