// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An epoll instance waiting for one event at a time, as the selftests' uffd readers use it: several readers can
 * add the same fd with {@link LibC#EPOLLEXCLUSIVE} so that a fault wakes one of them, not all.
 */
public final class Epoll extends OwnedFd {
    /** sizeof(struct epoll_event) on x86-64, where the struct is packed. */
    private static final int EVENT_SIZE = 12;
    private final Memory event = new Memory(EVENT_SIZE);
    /** {@link #event} seen from Java: decoding the event is two loads, not two JNI calls. */
    private final ByteBuffer eventFields = event.getByteBuffer(0, EVENT_SIZE).order(ByteOrder.nativeOrder());
    private final long eventAddress = Pointer.nativeValue(event);

    public Epoll() {
        super(create(), "epoll");
    }

    private static int create() {
        try {
            return LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        } catch (LastErrorException e) {
            throw new SyscallException("epoll_create1", e.getErrorCode());
        }
    }

    /** EPOLL_CTL_ADD of {@code fd} for {@code events}; {@code data} comes back from {@link #await}. */
    public void add(int fd, int events, long data) {
        Memory ev = new Memory(EVENT_SIZE);
        ev.setInt(0, events);
        ev.setLong(4, data);
        try {
            LibC.epoll_ctl(fd(), LibC.EPOLL_CTL_ADD, fd, ev);
        } catch (LastErrorException e) {
            throw new SyscallException("epoll_ctl", e.getErrorCode(), "fd " + fd);
        }
    }

    /** Waits for one event (retrying EINTR); returns its data, or -1 on timeout. Not for concurrent callers. */
    public long await(int timeoutMs) {
        while (true) {
            long n = Syscalls.get().epollWait(fd(), eventAddress, 1, timeoutMs);
            if (n >= 0) {
                return n == 0 ? -1 : eventFields.getLong(4);
            }
            if (n != -Errno.EINTR.value()) {
                throw new SyscallException("epoll_wait", (int) -n);
            }
        }
    }

    /** The events mask of the last event {@link #await} returned. */
    public int lastEvents() {
        return eventFields.getInt(0);
    }
}
