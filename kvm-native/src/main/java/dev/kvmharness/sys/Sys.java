// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Checked forms of the {@link LibC} calls: each returns the result or throws a {@link SyscallException}
 * naming the call and errno. This is the only place where -1 and errno are looked at.
 */
public final class Sys {
    private Sys() {
    }

    public static int open(String path, int flags) {
        try {
            return LibC.open(path, flags);
        } catch (LastErrorException e) {
            throw new SyscallException("open", e.getErrorCode(), path);
        }
    }

    public static void close(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            throw new SyscallException("close", e.getErrorCode());
        }
    }

    /** An ioctl with a pointer argument; {@code name} is the ioctl's kernel name, used in the error. */
    public static int ioctl(int fd, String name, long request, Pointer arg) {
        try {
            return LibC.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            throw new IoctlException(name, e.getErrorCode());
        }
    }

    /** An ioctl with an integer argument. */
    public static int ioctl(int fd, String name, long request, long arg) {
        try {
            return LibC.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            throw new IoctlException(name, e.getErrorCode());
        }
    }

    public static Pointer mmap(long length, int prot, int flags, int fd, long offset) {
        try {
            return LibC.mmap(null, length, prot, flags, fd, offset);
        } catch (LastErrorException e) {
            throw new SyscallException("mmap", e.getErrorCode(), "length=" + length + " flags=0x" + Integer.toHexString(flags));
        }
    }

    public static void munmap(Pointer addr, long length) {
        try {
            LibC.munmap(addr, length);
        } catch (LastErrorException e) {
            throw new SyscallException("munmap", e.getErrorCode());
        }
    }

    public static void madvise(Pointer addr, long length, int advice) {
        try {
            LibC.madvise(addr, length, advice);
        } catch (LastErrorException e) {
            throw new SyscallException("madvise", e.getErrorCode(), "advice=" + advice);
        }
    }

    public static int memfdCreate(String name, int flags) {
        try {
            return LibC.memfd_create(name, flags);
        } catch (LastErrorException e) {
            throw new SyscallException("memfd_create", e.getErrorCode());
        }
    }

    public static void ftruncate(int fd, long length) {
        try {
            LibC.ftruncate(fd, length);
        } catch (LastErrorException e) {
            throw new SyscallException("ftruncate", e.getErrorCode());
        }
    }

    public static void fallocate(int fd, int mode, long offset, long len) {
        try {
            LibC.fallocate(fd, mode, offset, len);
        } catch (LastErrorException e) {
            throw new SyscallException("fallocate", e.getErrorCode());
        }
    }

    public static long pread(int fd, Pointer buf, long count, long offset) {
        try {
            return LibC.pread(fd, buf, count, offset);
        } catch (LastErrorException e) {
            throw new SyscallException("pread", e.getErrorCode());
        }
    }

    public static int eventfd(int initval, int flags) {
        try {
            return LibC.eventfd(initval, flags);
        } catch (LastErrorException e) {
            throw new SyscallException("eventfd", e.getErrorCode());
        }
    }

    public static long syscall(String name, long number, long a0) {
        try {
            return LibC.syscall(number, a0);
        } catch (LastErrorException e) {
            throw new SyscallException(name, e.getErrorCode());
        }
    }

    /** The kernel thread id of the calling thread (what tgkill and sched_setaffinity take). */
    public static int gettid() {
        return (int) syscall("gettid", LibC.SYS_gettid, 0);
    }

    /** Sends {@code sig} to one thread of this process. */
    public static void tgkill(int tid, int sig) {
        try {
            LibC.syscall(LibC.SYS_tgkill, LibC.getpid(), tid, sig);
        } catch (LastErrorException e) {
            throw new SyscallException("tgkill", e.getErrorCode());
        }
    }

    /** Pins thread {@code tid} (0 = the caller) to one host CPU. */
    public static void pinToCpu(int tid, int cpu) {
        Memory mask = new Memory(128);
        mask.clear();
        mask.setByte(cpu / 8, (byte) (1 << (cpu % 8)));
        try {
            LibC.sched_setaffinity(tid, mask.size(), mask);
        } catch (LastErrorException e) {
            throw new SyscallException("sched_setaffinity", e.getErrorCode(), "cpu " + cpu);
        }
    }

    /** The host CPUs the calling thread may run on. */
    public static java.util.BitSet affinity() {
        Memory mask = new Memory(128);
        mask.clear();
        try {
            LibC.sched_getaffinity(0, mask.size(), mask);
        } catch (LastErrorException e) {
            throw new SyscallException("sched_getaffinity", e.getErrorCode());
        }
        return java.util.BitSet.valueOf(mask.getByteArray(0, (int) mask.size()));
    }

    /** The last errno of this thread as JNA preserved it. */
    public static int lastErrno() {
        return Native.getLastError();
    }
}
