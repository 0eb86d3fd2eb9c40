// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.sys.Errno;

/**
 * What an ioctl the test issues itself returned, as the selftests' {@code __vm_ioctl()} wrappers give it back:
 * success, or the errno, on either backend (the simulator fails with the errno KVM would).
 *
 * @param ioctl the ioctl's name, e.g. KVM_SET_USER_MEMORY_REGION2
 * @param errno 0 on success, else the errno value
 */
public record IoctlResult(String ioctl, int errno) {
    public static IoctlResult ok(String ioctl) {
        return new IoctlResult(ioctl, 0);
    }

    public boolean isOk() {
        return errno == 0;
    }

    /** Failed with exactly {@code e}. */
    public boolean failedWith(Errno e) {
        return errno == e.value();
    }

    /** "OK", or the errno's symbol ("EINVAL"). */
    public String outcome() {
        return errno == 0 ? "OK" : Errno.symbol(errno);
    }

    /** The asserting wrapper (vm_ioctl()): a failure is a test failure naming the ioctl and the errno. */
    public IoctlResult orFail() {
        if (errno != 0) {
            Errno e = Errno.of(errno);
            throw new TestAssertionFailure("ret == 0", String.format("%s failed, rc: -1 errno: %d (%s)", ioctl, errno,
                    e == null ? "unknown" : e.message()), null);
        }
        return this;
    }

    @Override
    public String toString() {
        return ioctl + " -> " + outcome();
    }
}
