// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import java.lang.ref.Reference;
import java.util.BitSet;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * Checked forms of the {@link LibC} calls: each returns the result or throws a {@link SyscallException}
 * naming the call and errno. The ioctl forms go through {@link Syscalls} rather than {@link #checked}, since
 * the fault-handling path calls them once per page.
 */
public final class Sys {
    private Sys() {
    }

    /** A libc call that reports failure through errno. */
    @FunctionalInterface
    private interface Call<T> {
        T invoke() throws LastErrorException;
    }

    /** Runs {@code call}, turning errno into a SyscallException naming {@code name}. */
    private static <T> T checked(String name, String detail, Call<T> call) {
        try {
            return call.invoke();
        } catch (LastErrorException e) {
            throw new SyscallException(name, e.getErrorCode(), detail);
        }
    }

    public static int open(String path, int flags) {
        return checked("open", path, () -> LibC.open(path, flags));
    }

    public static void close(int fd) {
        checked("close", null, () -> LibC.close(fd));
    }

    /** An ioctl with a pointer argument; {@code name} is the ioctl's kernel name, used in the error. */
    public static int ioctl(int fd, String name, long request, Pointer arg) {
        try {
            return ioctl(fd, name, request, Pointer.nativeValue(arg));
        } finally {
            // Only the address reaches the kernel: a Memory nobody else holds must not be freed mid-call.
            Reference.reachabilityFence(arg);
        }
    }

    /** An ioctl with an integer argument (or a pointer's address). */
    public static int ioctl(int fd, String name, long request, long arg) {
        long r = Syscalls.get().ioctl(fd, request, arg);
        if (r < 0) {
            throw new IoctlException(name, (int) -r);
        }
        return (int) r;
    }

    public static Pointer mmap(long length, int prot, int flags, int fd, long offset) {
        return checked("mmap", "length=" + length + " flags=0x" + Integer.toHexString(flags),
                () -> LibC.mmap(null, length, prot, flags, fd, offset));
    }

    public static void munmap(Pointer addr, long length) {
        checked("munmap", null, () -> LibC.munmap(addr, length));
    }

    public static void madvise(Pointer addr, long length, int advice) {
        checked("madvise", "advice=" + advice, () -> LibC.madvise(addr, length, advice));
    }

    public static void mprotect(Pointer addr, long length, int prot) {
        checked("mprotect", "prot=" + prot, () -> LibC.mprotect(addr, length, prot));
    }

    public static int memfdCreate(String name, int flags) {
        return checked("memfd_create", name, () -> LibC.memfd_create(name, flags));
    }

    public static void ftruncate(int fd, long length) {
        checked("ftruncate", null, () -> LibC.ftruncate(fd, length));
    }


    public static long pread(int fd, Pointer buf, long count, long offset) {
        return checked("pread", null, () -> LibC.pread(fd, buf, count, offset));
    }

    public static int eventfd(int initval, int flags) {
        return checked("eventfd", null, () -> LibC.eventfd(initval, flags));
    }

    public static long syscall(String name, long number, long a0) {
        return checked(name, null, () -> LibC.syscall(number, a0));
    }

    /** Whether {@code fd} (2: stderr) is a terminal; false where libc cannot be reached. */
    public static boolean isatty(int fd) {
        try {
            return LibC.isatty(fd) == 1;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return false;
        }
    }

    /** The kernel thread id of the calling thread (what tgkill and sched_setaffinity take). */
    public static int gettid() {
        return (int) syscall("gettid", LibC.SYS_gettid, 0);
    }

    /** Sends {@code sig} to one thread of this process. */
    public static void tgkill(int tid, int sig) {
        checked("tgkill", "tid " + tid, () -> LibC.syscall(LibC.SYS_tgkill, LibC.getpid(), tid, sig));
    }

    /** Pins thread {@code tid} (0 = the caller) to one host CPU. */
    public static void pinToCpu(int tid, int cpu) {
        Memory mask = new Memory(128);
        mask.clear();
        mask.setByte(cpu / 8, (byte) (1 << (cpu % 8)));
        checked("sched_setaffinity", "cpu " + cpu, () -> LibC.sched_setaffinity(tid, mask.size(), mask));
    }

    /** The host CPUs the calling thread may run on. */
    public static BitSet affinity() {
        Memory mask = new Memory(128);
        mask.clear();
        checked("sched_getaffinity", null, () -> LibC.sched_getaffinity(0, mask.size(), mask));
        return BitSet.valueOf(mask.getByteArray(0, (int) mask.size()));
    }
}
