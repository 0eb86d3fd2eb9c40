// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;

/** An eventfd(2): the stop signal of poll loops (the C selftests use a pipe per reader for the same job). */
public final class EventFd extends OwnedFd {
    public EventFd() {
        super(Sys.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd");
    }

    /** Adds 1 to the counter, waking every poller. */
    public void signal() {
        Memory one = new Memory(8);
        one.setLong(0, 1);
        try {
            LibC.write(fd(), one, 8);
        } catch (LastErrorException e) {
            throw new SyscallException("write(eventfd)", e.getErrorCode());
        }
    }
}
