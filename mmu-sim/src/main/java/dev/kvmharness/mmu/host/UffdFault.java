// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.sched.WaitQueue;

/**
 * {@code struct userfaultfd_wait_queue}: one thread blocked in {@code handle_userfault()}. It sits on the
 * context's pending list until a reader takes its message, and is woken when a resolving ioctl, UFFDIO_WAKE,
 * unregistration or close covers its address; the thread then retries the fault from the start.
 */
final class UffdFault {
    final UffdMsg msg;
    /** The faulting thread's own queue: a wake touches only the threads whose address it covers. */
    final WaitQueue queue;
    final long raisedAtNs;
    boolean woken;

    UffdFault(UffdMsg msg, WaitQueue queue, long raisedAtNs) {
        this.msg = msg;
        this.queue = queue;
        this.raisedAtNs = raisedAtNs;
    }
}
