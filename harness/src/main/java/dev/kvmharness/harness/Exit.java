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

    /** kvm_run->mmio after a KVM_EXIT_MMIO: the access KVM hands to userspace. */
    public record Mmio(long physAddr, int len, boolean isWrite) {
    }

    /** kvm_run->internal after a KVM_EXIT_INTERNAL_ERROR: the suberror and data[0..ndata). */
    public record Internal(int suberror, long[] data) {
        /** KVM_INTERNAL_ERROR_EMULATION. */
        public static final int EMULATION = 1;
        /** KVM_INTERNAL_ERROR_DELIVERY_EV. */
        public static final int DELIVERY_EV = 3;

        public Internal {
            data = data.clone();
        }

        @Override
        public long[] data() {
            return data.clone();
        }

        public int ndata() {
            return data.length;
        }
    }

    public boolean is(int r) {
        return reason == r;
    }

    @Override
    public String toString() {
        return detail;
    }
}
