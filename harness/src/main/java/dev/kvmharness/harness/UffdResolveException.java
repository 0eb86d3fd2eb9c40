// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.sys.Errno;

/** A UFFDIO_COPY or UFFDIO_CONTINUE failed with {@code errno} (EEXIST when another reader won the race). */
public final class UffdResolveException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public UffdResolveException(String ioctl, int errno, Throwable cause) {
        super(ioctl + " failed: " + Errno.symbol(errno), cause);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    public boolean isEexist() {
        return errno == Errno.EEXIST.value();
    }
}
