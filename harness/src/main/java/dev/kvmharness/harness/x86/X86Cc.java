// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/** x86 condition codes, valued as the low nibble of the Jcc opcode (0F 80+cc). Names follow the Jcc mnemonics. */
public enum X86Cc {
    O(0x0), NO(0x1), B(0x2), AE(0x3), E(0x4), NE(0x5), BE(0x6), A(0x7),
    S(0x8), NS(0x9), P(0xA), NP(0xB), L(0xC), GE(0xD), LE(0xE), G(0xF);

    private final int code;

    X86Cc(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
