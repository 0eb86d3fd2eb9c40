// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

/**
 * The system calls a vCPU thread and a userfaultfd reader make once per exit or per page: {@code ioctl}
 * (KVM_RUN, UFFDIO_COPY, UFFDIO_CONTINUE), {@code read} of a {@code uffd_msg} and {@code epoll_wait}. Each takes
 * raw addresses and returns its result, or {@code -errno} on failure (the kernel's own convention), so the hot
 * path neither allocates nor unwinds an exception per call.
 *
 * <p>{@link #get()} is the JNI shim ({@link JniSyscalls}) where it was built and loads, JNA's direct mapping
 * ({@link JnaSyscalls}) otherwise: a JNA call costs about 300 ns more than the system call itself on this
 * project's 2-core host, a JNI call a few ns, and the demand-paging reader makes three per page.
 */
public interface Syscalls {
    /** ioctl(2) with an integer or pointer argument (the same register on x86-64). */
    long ioctl(int fd, long request, long arg);

    /** read(2) of {@code count} bytes into native memory at {@code buf}. */
    long read(int fd, long buf, long count);

    /** epoll_wait(2) into {@code maxEvents} packed {@code struct epoll_event}s at {@code events}. */
    long epollWait(int epfd, long events, int maxEvents, int timeoutMs);

    /** Which implementation this is, and for JNA why the shim is not in use. */
    String describe();

    /** The implementation in use in this JVM. */
    static Syscalls get() {
        return Chosen.SYSCALLS;
    }

    /** Decided once, when a hot path first asks. */
    final class Chosen {
        static final Syscalls SYSCALLS = JniSyscalls.loadOrFallBack(System.getProperty(JniSyscalls.LIBRARY_PROPERTY));

        private Chosen() {
        }
    }
}
