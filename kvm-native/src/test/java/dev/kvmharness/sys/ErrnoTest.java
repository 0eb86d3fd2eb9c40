// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** errno values by symbol (asm-generic/errno-base.h, errno.h) and the messages failures carry. */
class ErrnoTest {

    /** Every constant against the kernel UAPI headers (src/test/c/errno_golden.c wrote kernel-errno.txt). */
    @Test
    void valuesMatchTheKernel() throws java.io.IOException {
        java.util.Map<String, Integer> kernel = new java.util.LinkedHashMap<>();
        try (java.io.InputStream in = ErrnoTest.class.getResourceAsStream("/kernel-errno.txt")) {
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).lines().toList()) {
                String[] kv = line.split("=", 2);
                kernel.put(kv[0], Integer.parseInt(kv[1]));
            }
        }
        java.util.Map<String, Integer> ours = new java.util.LinkedHashMap<>();
        for (Errno e : Errno.values()) {
            ours.put(e.name(), e.value());
        }
        assertThat(ours).isEqualTo(kernel);
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
