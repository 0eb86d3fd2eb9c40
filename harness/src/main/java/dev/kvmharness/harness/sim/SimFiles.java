// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import java.util.HashMap;
import java.util.Map;

/**
 * The simulated process's file table: fd numbers for what the simulator hands out (the /dev/kvm fd, VM fds,
 * memfds, guest_memfd files), so a test can pass any of them where KVM takes an fd and the model can tell
 * what it names, as fget() does. One per backend, shared by its VMs, like one process's table.
 */
final class SimFiles {
    /** Above what the JVM itself is likely to hold, so sim fds look like fds. */
    private static final int FIRST_FD = 1000;
    private final Map<Integer, Object> files = new HashMap<>();
    private int next = FIRST_FD;

    synchronized int open(Object file) {
        int fd = next++;
        files.put(fd, file);
        return fd;
    }

    /** The file behind {@code fd}, or null (closed, or never ours). */
    synchronized Object get(int fd) {
        return files.get(fd);
    }

    synchronized void close(int fd) {
        files.remove(fd);
    }
}
