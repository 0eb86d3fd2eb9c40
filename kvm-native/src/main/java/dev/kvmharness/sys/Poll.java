// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;

/**
 * poll(2) over a fixed set of descriptors, with the struct pollfd array allocated once so that a reader
 * loop does no allocation per wake-up.
 */
public final class Poll {
    private static final int POLLFD_SIZE = 8;
    private final Memory fds;
    private final int count;

    public Poll(int... fds) {
        this.count = fds.length;
        this.fds = new Memory((long) POLLFD_SIZE * count);
        for (int i = 0; i < count; i++) {
            this.fds.setInt((long) i * POLLFD_SIZE, fds[i]);
            this.fds.setShort((long) i * POLLFD_SIZE + 4, LibC.POLLIN);
        }
    }

    /** Waits for any descriptor to be ready; returns the number ready (0 on timeout), retrying EINTR. */
    public int await(int timeoutMs) {
        for (int i = 0; i < count; i++) {
            fds.setShort((long) i * POLLFD_SIZE + 6, (short) 0);
        }
        while (true) {
            try {
                return LibC.poll(fds, count, timeoutMs);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR.value()) {
                    throw new SyscallException("poll", e.getErrorCode());
                }
            }
        }
    }

    /** The revents of descriptor {@code i} after the last {@link #await}. */
    public short revents(int i) {
        return fds.getShort((long) i * POLLFD_SIZE + 6);
    }

    public boolean readable(int i) {
        return (revents(i) & LibC.POLLIN) != 0;
    }

    public boolean failed(int i) {
        return (revents(i) & (LibC.POLLERR | LibC.POLLHUP | LibC.POLLNVAL)) != 0;
    }
}
