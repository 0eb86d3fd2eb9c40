// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The raw libc calls kvm-native needs, bound with JNA direct mapping (the fastest JNA call path: the
 * demand-paging handlers call read/ioctl/poll once per page). Every function reports failure through
 * {@link LastErrorException}; callers turn that into a {@link SyscallException} naming the call.
 *
 * <p>Nothing here is safe to use directly from tests: the wrappers in {@code dev.kvmharness.kvm} own the
 * file descriptors and mappings.
 */
public final class LibC {
    static {
        Native.register(NativeLibrary.getInstance("c"));
    }

    private LibC() {
    }

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_HUGETLB = 0x40000;
    /** log2 of the huge page size goes in bits 26..31 of the flags. */
    public static final int MAP_HUGE_SHIFT = 26;

    public static final int MADV_DONTNEED = 4;
    public static final int MADV_REMOVE = 9;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;

    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_HUGETLB = 0x4;

    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int EFD_NONBLOCK = O_NONBLOCK;

    public static final short POLLIN = 0x1;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;

    public static final long SYS_gettid = 186;
    public static final long SYS_tgkill = 234;
    public static final long SYS_userfaultfd = 323;

    public static native int open(String path, int flags) throws LastErrorException;

    public static native int close(int fd) throws LastErrorException;

    /** ioctl with a pointer argument (the varargs ABI on x86-64 passes it like a fixed argument). */
    public static native int ioctl(int fd, long request, Pointer arg) throws LastErrorException;

    /** ioctl with an integer argument, e.g. KVM_CREATE_VM's type or KVM_CHECK_EXTENSION's capability. */
    public static native int ioctl(int fd, long request, long arg) throws LastErrorException;

    public static native Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset)
            throws LastErrorException;

    public static native int munmap(Pointer addr, long length) throws LastErrorException;

    public static native int madvise(Pointer addr, long length, int advice) throws LastErrorException;

    public static native int mprotect(Pointer addr, long length, int prot) throws LastErrorException;

    public static native int memfd_create(String name, int flags) throws LastErrorException;

    public static native int ftruncate(int fd, long length) throws LastErrorException;

    public static native long pread(int fd, Pointer buf, long count, long offset) throws LastErrorException;

    public static native long read(int fd, Pointer buf, long count) throws LastErrorException;

    public static native long write(int fd, Pointer buf, long count) throws LastErrorException;

    public static native int eventfd(int initval, int flags) throws LastErrorException;

    public static final int EPOLL_CLOEXEC = O_CLOEXEC;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;
    public static final int EPOLLEXCLUSIVE = 1 << 28;

    public static native int epoll_create1(int flags) throws LastErrorException;

    /** epoll_ctl(2) with a struct epoll_event (x86-64: packed, u32 events then u64 data, 12 bytes). */
    public static native int epoll_ctl(int epfd, int op, int fd, Pointer event) throws LastErrorException;

    public static native int epoll_wait(int epfd, Pointer events, int maxevents, int timeoutMs) throws LastErrorException;

    /** poll(2) over a native array of struct pollfd (8 bytes each: int fd, short events, short revents). */
    public static native int poll(Pointer fds, long nfds, int timeoutMs) throws LastErrorException;

    public static native int sched_setaffinity(int pid, long cpusetsize, Pointer mask) throws LastErrorException;

    public static native int sched_getaffinity(int pid, long cpusetsize, Pointer mask) throws LastErrorException;

    public static native long syscall(long number, long a0) throws LastErrorException;

    public static native long syscall(long number, long a0, long a1, long a2) throws LastErrorException;

    public static native int getpid();

    /** isatty(3): 1 for a terminal; 0 otherwise (errno says why, not wanted here). */
    public static native int isatty(int fd);

    /** sigaction(2) over a raw struct sigaction (x86-64 glibc layout, 152 bytes). */
    public static native int sigaction(int signum, Pointer act, Pointer oldact) throws LastErrorException;

    public static native int usleep(int usec) throws LastErrorException;

    /** MAP_FAILED, i.e. (void *)-1. */
    public static boolean isMapFailed(Pointer p) {
        return Pointer.nativeValue(p) == -1L;
    }
}
