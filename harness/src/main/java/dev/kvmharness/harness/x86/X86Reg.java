// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/**
 * The sixteen x86-64 general-purpose registers, in hardware encoding order. Constant names match
 * struct kvm_regs' field names, so host code can go from one to the other by name.
 */
public enum X86Reg {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15;

    /** The 4-bit register number: ModRM.reg/rm or SIB.base in the low 3 bits, the REX extension in bit 3. */
    public int encoding() {
        return ordinal();
    }

    /** The low three bits that go into ModRM, SIB or the opcode. */
    int low3() {
        return ordinal() & 7;
    }

    /** Whether naming this register needs a REX.R/X/B bit (R8..R15). */
    boolean extended() {
        return ordinal() >= 8;
    }

    public static X86Reg ofEncoding(int encoding) {
        return values()[encoding];
    }
}
