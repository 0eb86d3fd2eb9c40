// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import java.util.HashMap;
import java.util.Map;

/**
 * The Linux errno values (asm-generic/errno-base.h and the common part of errno.h) by symbol, so that a
 * failure can be reported as {@code EEXIST} rather than {@code 17}, and so that the simulator can return
 * the same value KVM would.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "I/O error"),
    ENXIO(6, "No such device or address"),
    E2BIG(7, "Argument list too long"),
    ENOEXEC(8, "Exec format error"),
    EBADF(9, "Bad file number"),
    ECHILD(10, "No child processes"),
    EAGAIN(11, "Try again"),
    ENOMEM(12, "Out of memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    ENOTBLK(15, "Block device required"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    EXDEV(18, "Cross-device link"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    ENFILE(23, "File table overflow"),
    EMFILE(24, "Too many open files"),
    ENOTTY(25, "Not a typewriter"),
    ETXTBSY(26, "Text file busy"),
    EFBIG(27, "File too large"),
    ENOSPC(28, "No space left on device"),
    ESPIPE(29, "Illegal seek"),
    EROFS(30, "Read-only file system"),
    EMLINK(31, "Too many links"),
    EPIPE(32, "Broken pipe"),
    EDOM(33, "Math argument out of domain of func"),
    ERANGE(34, "Math result not representable"),
    ENOSYS(38, "Invalid system call number"),
    EOPNOTSUPP(95, "Operation not supported on transport endpoint"),
    ETIMEDOUT(110, "Connection timed out"),
    EHWPOISON(133, "Memory page has hardware error");

    private static final Map<Integer, Errno> BY_VALUE = new HashMap<>();

    static {
        for (Errno e : values()) {
            if (e.value > 0) {
                BY_VALUE.put(e.value, e);
            }
        }
    }

    private final int value;
    private final String message;

    Errno(int value, String message) {
        this.value = value;
        this.message = message;
    }

    /** The numeric value the kernel returns (negated in the syscall return, positive in errno). */
    public int value() {
        return value;
    }

    /** The kernel's one-line description of the error. */
    public String message() {
        return message;
    }

    /** The symbol for a raw errno value, or {@code null} when this table does not know it. */
    public static Errno of(int value) {
        return BY_VALUE.get(value);
    }

    /** {@code EEXIST} for 17, {@code errno 200} for a value this table does not know. */
    public static String symbol(int value) {
        Errno e = of(value);
        return e != null ? e.name() : "errno " + value;
    }
}
