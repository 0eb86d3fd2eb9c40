// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;

/** {@link Syscalls} through {@link LibC}'s JNA direct mapping: the fallback where the JNI shim is missing. */
final class JnaSyscalls implements Syscalls {
    private final String why;

    JnaSyscalls(String why) {
        this.why = why;
    }

    @Override
    public long ioctl(int fd, long request, long arg) {
        try {
            return LibC.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long read(int fd, long buf, long count) {
        try {
            return LibC.read(fd, new Pointer(buf), count);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long epollWait(int epfd, long events, int maxEvents, int timeoutMs) {
        try {
            return LibC.epoll_wait(epfd, new Pointer(events), maxEvents, timeoutMs);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public String describe() {
        return "JNA (" + why + ")";
    }
}
