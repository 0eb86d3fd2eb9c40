// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * Why KVM_RUN returned: the exit reason with KVM's number and name, plus a one-line description of the
 * reason-specific data (port and size for I/O, gpa for MMIO, subcode for internal errors).
 */
public record Exit(int reason, String name, String detail) {
    public static final int IO = 2;
    public static final int HLT = 5;
    public static final int MMIO = 6;
    public static final int SHUTDOWN = 8;
    public static final int FAIL_ENTRY = 9;
    public static final int INTERNAL_ERROR = 17;

    public boolean is(int r) {
        return reason == r;
    }

    @Override
    public String toString() {
        return detail;
    }
}
