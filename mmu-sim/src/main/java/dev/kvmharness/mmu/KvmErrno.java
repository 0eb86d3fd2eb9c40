// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu;

/**
 * The errno values the simulator returns, with their Linux x86-64 numbers, so a simulated ioctl fails with
 * exactly the number real KVM would put in errno.
 */
public enum KvmErrno {
    EPERM(1), ENOENT(2), ENXIO(6), EAGAIN(11), ENOMEM(12), EFAULT(14), EBUSY(16), EEXIST(17), EINVAL(22),
    ENOSPC(28), E2BIG(7), EOPNOTSUPP(95);

    private final int value;

    KvmErrno(int value) {
        this.value = value;
    }

    /** The number userspace sees in errno. */
    public int value() {
        return value;
    }
}
