// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/**
 * The asm-generic _IOC encoding (include/uapi/asm-generic/ioctl.h), so that ioctl numbers are derived from
 * the ioctl type, number and argument struct size exactly as the kernel headers derive them.
 */
public final class Ioc {
    private Ioc() {
    }

    public static final int NONE = 0;
    public static final int WRITE = 1;
    public static final int READ = 2;

    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = 8;
    private static final int SIZESHIFT = 16;
    private static final int DIRSHIFT = 30;
    private static final int SIZEBITS = 14;

    public static long ioc(int dir, int type, int nr, int size) {
        if (size < 0 || size >= (1 << SIZEBITS)) {
            throw new IllegalArgumentException("ioctl argument size " + size + " does not fit _IOC_SIZEBITS");
        }
        return ((long) dir << DIRSHIFT) | ((long) size << SIZESHIFT) | ((long) type << TYPESHIFT) | ((long) nr << NRSHIFT);
    }

    public static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    public static long ior(int type, int nr, int size) {
        return ioc(READ, type, nr, size);
    }

    public static long iow(int type, int nr, int size) {
        return ioc(WRITE, type, nr, size);
    }

    public static long iowr(int type, int nr, int size) {
        return ioc(READ | WRITE, type, nr, size);
    }

    /** The argument size encoded in an ioctl number (_IOC_SIZE). */
    public static int size(long request) {
        return (int) ((request >>> SIZESHIFT) & ((1 << SIZEBITS) - 1));
    }
}
