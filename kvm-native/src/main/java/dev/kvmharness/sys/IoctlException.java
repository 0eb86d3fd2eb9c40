// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

/**
 * A failed ioctl, named by its kernel name (e.g. {@code KVM_SET_USER_MEMORY_REGION failed: EEXIST (File
 * exists)}), mirroring the selftests' "<IOCTL> failed, rc: R errno: E" report. Subclasses say what the failure
 * means where one errno has a plain meaning (e.g. {@code NotKvmDeviceException}).
 */
public class IoctlException extends SyscallException {
    private static final long serialVersionUID = 1L;

    public IoctlException(String ioctlName, int errno) {
        super(ioctlName, errno);
    }

    /** The ioctl's kernel name. */
    public String ioctl() {
        return call();
    }
}
