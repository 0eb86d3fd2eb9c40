// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/**
 * The classic two-operand ALU group (opcode rows 00..3F and the 80/81/83 immediate group): the value is the
 * group's 3-bit operation number, which picks both the register form's opcode ({@code op*8 + 1}, "r/m64, r64")
 * and the ModRM.reg extension of the immediate forms.
 */
public enum X86Arith {
    ADD(0), OR(1), AND(4), SUB(5), XOR(6), CMP(7);

    private final int ext;

    X86Arith(int ext) {
        this.ext = ext;
    }

    /** ModRM.reg of the 81 /n and 83 /n immediate forms. */
    int ext() {
        return ext;
    }

    /** Opcode of the {@code op r/m, r} form. */
    int mrOpcode() {
        return ext << 3 | 0x01;
    }

    /** Opcode of the short {@code op rAX, imm32} form. */
    int raxImm32Opcode() {
        return ext << 3 | 0x05;
    }
}
