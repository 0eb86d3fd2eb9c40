// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

/**
 * A file descriptor this process owns and closes exactly once. Using it after {@link #close()} throws
 * {@link IllegalStateException} instead of touching a number the kernel may have handed out again.
 */
public class OwnedFd implements AutoCloseable {
    private final int fd;
    private final String what;
    private volatile boolean closed;

    public OwnedFd(int fd, String what) {
        if (fd < 0) {
            throw new IllegalArgumentException("invalid fd " + fd + " for " + what);
        }
        this.fd = fd;
        this.what = what;
    }

    /** The raw descriptor; throws once closed. */
    public final int fd() {
        if (closed) {
            throw new IllegalStateException(what + " (fd " + fd + ") is closed");
        }
        return fd;
    }

    public final boolean isClosed() {
        return closed;
    }

    /** What this descriptor is, for messages: "vm fd", "vcpu 3 fd", ... */
    public final String what() {
        return what;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Sys.close(fd);
    }

    @Override
    public String toString() {
        return what + "(fd " + fd + (closed ? ", closed" : "") + ")";
    }
}
