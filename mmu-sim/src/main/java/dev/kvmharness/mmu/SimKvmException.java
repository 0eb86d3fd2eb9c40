// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu;

/**
 * A simulated ioctl (or mm call) failed the way the kernel would fail it: it names the call and carries the
 * errno KVM returns for the request, so callers can compare it with real KVM one to one.
 */
public final class SimKvmException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String call;
    private final KvmErrno errno;

    public SimKvmException(String call, KvmErrno errno, String why) {
        super(call + " failed: " + errno + " (" + why + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The ioctl or call that failed, e.g. KVM_SET_USER_MEMORY_REGION2. */
    public String call() {
        return call;
    }

    public KvmErrno errno() {
        return errno;
    }
}
