// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/** Constants and struct layouts of include/uapi/linux/userfaultfd.h. */
public final class Uffd {
    private Uffd() {
    }

    public static final int UFFDIO = 0xAA;
    public static final long UFFD_API = 0xAA;

    public static final int NR_REGISTER = 0x00;
    public static final int NR_UNREGISTER = 0x01;
    public static final int NR_WAKE = 0x02;
    public static final int NR_COPY = 0x03;
    public static final int NR_ZEROPAGE = 0x04;
    public static final int NR_CONTINUE = 0x07;
    public static final int NR_API = 0x3F;

    public static final long UFFDIO_REGISTER_MODE_MISSING = 1L;
    public static final long UFFDIO_REGISTER_MODE_WP = 1L << 1;
    public static final long UFFDIO_REGISTER_MODE_MINOR = 1L << 2;

    public static final int UFFD_EVENT_PAGEFAULT = 0x12;
    public static final long UFFD_PAGEFAULT_FLAG_WRITE = 1;
    public static final long UFFD_PAGEFAULT_FLAG_WP = 1 << 1;
    public static final long UFFD_PAGEFAULT_FLAG_MINOR = 1 << 2;

    public static final long UFFD_FEATURE_MISSING_HUGETLBFS = 1 << 4;
    public static final long UFFD_FEATURE_MISSING_SHMEM = 1 << 5;
    public static final long UFFD_FEATURE_MINOR_HUGETLBFS = 1 << 9;
    public static final long UFFD_FEATURE_MINOR_SHMEM = 1 << 10;

    // struct uffdio_api
    public static final int API_OFF_API = 0;
    public static final int API_OFF_FEATURES = 8;
    public static final int API_OFF_IOCTLS = 16;
    public static final int API_SIZE = 24;

    // struct uffdio_range
    public static final int RANGE_OFF_START = 0;
    public static final int RANGE_OFF_LEN = 8;
    public static final int RANGE_SIZE = 16;

    // struct uffdio_register
    public static final int REGISTER_OFF_RANGE = 0;
    public static final int REGISTER_OFF_MODE = 16;
    public static final int REGISTER_OFF_IOCTLS = 24;
    public static final int REGISTER_SIZE = 32;

    // struct uffdio_copy
    public static final int COPY_OFF_DST = 0;
    public static final int COPY_OFF_SRC = 8;
    public static final int COPY_OFF_LEN = 16;
    public static final int COPY_OFF_MODE = 24;
    public static final int COPY_OFF_COPY = 32;
    public static final int COPY_SIZE = 40;

    // struct uffdio_zeropage
    public static final int ZEROPAGE_OFF_RANGE = 0;
    public static final int ZEROPAGE_OFF_MODE = 16;
    public static final int ZEROPAGE_OFF_ZEROPAGE = 24;
    public static final int ZEROPAGE_SIZE = 32;

    // struct uffdio_continue
    public static final int CONTINUE_OFF_RANGE = 0;
    public static final int CONTINUE_OFF_MODE = 16;
    public static final int CONTINUE_OFF_MAPPED = 24;
    public static final int CONTINUE_SIZE = 32;

    // struct uffd_msg
    public static final int MSG_OFF_EVENT = 0;
    public static final int MSG_OFF_PAGEFAULT_FLAGS = 8;
    public static final int MSG_OFF_PAGEFAULT_ADDRESS = 16;
    public static final int MSG_OFF_PAGEFAULT_PTID = 24;
    public static final int MSG_SIZE = 32;

    /** The bit of an ioctl in uffdio_register.ioctls / uffdio_api.ioctls. */
    public static long ioctlBit(int nr) {
        return 1L << nr;
    }
}
