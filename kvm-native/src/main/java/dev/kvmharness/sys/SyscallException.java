// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

/**
 * A failed system call: names the call and the errno symbol, e.g. {@code mmap failed: ENOMEM (Out of
 * memory)}. Raised by every wrapper in kvm-native instead of returning -1.
 */
public class SyscallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public SyscallException(String call, int errno) {
        this(call, errno, null);
    }

    public SyscallException(String call, int errno, String detail) {
        super(call + " failed: " + Errno.symbol(errno) + describe(errno) + (detail == null ? "" : " [" + detail + "]"));
        this.call = call;
        this.errno = errno;
    }

    private static String describe(int errno) {
        Errno e = Errno.of(errno);
        return e == null ? "" : " (" + e.message() + ")";
    }

    /** The name of the call that failed: a libc function, or the ioctl's name for ioctls. */
    public String call() {
        return call;
    }

    /** The raw errno value. */
    public int errno() {
        return errno;
    }

    /** The errno symbol, or {@code null} if unknown. */
    public Errno symbol() {
        return Errno.of(errno);
    }

    /** True if this failure carries the given errno. */
    public boolean is(Errno e) {
        return e.value() == errno;
    }
}
