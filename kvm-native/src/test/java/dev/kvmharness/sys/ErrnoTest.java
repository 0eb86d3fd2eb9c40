// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** errno values by symbol (asm-generic/errno-base.h, errno.h) and the messages failures carry. */
class ErrnoTest {

    @Test
    void valuesMatchTheKernel() {
        assertThat(Errno.EPERM.value()).isEqualTo(1);
        assertThat(Errno.ENOENT.value()).isEqualTo(2);
        assertThat(Errno.EINTR.value()).isEqualTo(4);
        assertThat(Errno.E2BIG.value()).isEqualTo(7);
        assertThat(Errno.EBADF.value()).isEqualTo(9);
        assertThat(Errno.EAGAIN.value()).isEqualTo(11);
        assertThat(Errno.ENOMEM.value()).isEqualTo(12);
        assertThat(Errno.EACCES.value()).isEqualTo(13);
        assertThat(Errno.EFAULT.value()).isEqualTo(14);
        assertThat(Errno.EEXIST.value()).isEqualTo(17);
        assertThat(Errno.ENODEV.value()).isEqualTo(19);
        assertThat(Errno.EINVAL.value()).isEqualTo(22);
        assertThat(Errno.ENOTTY.value()).isEqualTo(25);
        assertThat(Errno.ENOSPC.value()).isEqualTo(28);
        assertThat(Errno.ENOSYS.value()).isEqualTo(38);
        assertThat(Errno.EOPNOTSUPP.value()).isEqualTo(95);
        assertThat(Errno.EHWPOISON.value()).isEqualTo(133);
    }

    @Test
    void lookupBothWays() {
        for (Errno e : Errno.values()) {
            assertThat(Errno.of(e.value())).isSameAs(e);
        }
        assertThat(Errno.of(9999)).isNull();
        assertThat(Errno.symbol(17)).isEqualTo("EEXIST");
        assertThat(Errno.symbol(9999)).isEqualTo("errno 9999");
    }

    @Test
    void exceptionsNameTheCallAndTheSymbol() {
        IoctlException e = new IoctlException("KVM_SET_USER_MEMORY_REGION", 17);
        assertThat(e.getMessage()).isEqualTo("KVM_SET_USER_MEMORY_REGION failed: EEXIST (File exists)");
        assertThat(e.ioctl()).isEqualTo("KVM_SET_USER_MEMORY_REGION");
        assertThat(e.is(Errno.EEXIST)).isTrue();
        assertThat(e.symbol()).isEqualTo(Errno.EEXIST);
        SyscallException m = new SyscallException("mmap", 12, "length=4096");
        assertThat(m.getMessage()).isEqualTo("mmap failed: ENOMEM (Out of memory) [length=4096]");
    }

    @Test
    void realSyscallFailureIsTyped() {
        SyscallException e = org.junit.jupiter.api.Assertions.assertThrows(SyscallException.class,
                () -> Sys.open("/nonexistent/definitely-not-here", LibC.O_RDONLY));
        assertThat(e.call()).isEqualTo("open");
        assertThat(e.symbol()).isEqualTo(Errno.ENOENT);
        IoctlException io = org.junit.jupiter.api.Assertions.assertThrows(IoctlException.class,
                () -> Sys.ioctl(0, "KVM_GET_API_VERSION", 0xAE00, 0));
        assertThat(io.symbol()).isIn(Errno.ENOTTY, Errno.EINVAL, Errno.EBADF);
    }
}
