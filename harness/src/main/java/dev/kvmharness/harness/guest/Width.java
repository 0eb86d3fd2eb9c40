// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/** Size of a guest memory access. Loads zero-extend to 64 bits; stores write the low bytes of the source. */
public enum Width {
    BYTE(1), WORD(2), DWORD(4), QWORD(8);

    private final int bytes;

    Width(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The low {@link #bytes()} of {@code value}, zero-extended: what a load of this width yields. */
    public long truncate(long value) {
        return bytes == 8 ? value : value & ((1L << (bytes * 8)) - 1);
    }
}
