// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import dev.kvmharness.sys.IoctlException;

/**
 * The KVM device node is some other file: its first ioctl, KVM_GET_API_VERSION, failed with ENOTTY. Still an
 * {@link IoctlException} naming the ioctl and errno, with the path and what the ENOTTY means in front.
 */
public final class NotKvmDeviceException extends IoctlException {
    private static final long serialVersionUID = 1L;

    private final String path;

    NotKvmDeviceException(String path, String ioctlName, int errno) {
        super(ioctlName, errno);
        this.path = path;
    }

    /** The node that was opened as the KVM device. */
    public String path() {
        return path;
    }

    /** E.g. "/dev/null is not a KVM device: KVM_GET_API_VERSION failed: ENOTTY (Not a typewriter)". */
    @Override
    public String getMessage() {
        return path + " is not a KVM device: " + super.getMessage();
    }
}
