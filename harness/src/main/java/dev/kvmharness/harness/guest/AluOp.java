// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/**
 * Two-operand arithmetic {@code dst = dst <op> src} on 64-bit values, wrapping modulo 2^64.
 *
 * <p>{@link #UDIV} and {@link #UREM} are unsigned. Dividing by zero makes the guest fault (on x86 a #DE,
 * which the harness's empty IDT turns into a shutdown exit); the builder cannot detect a zero held in a
 * register, only a literal zero divisor, which it rejects. Shift counts are taken modulo 64, as x86 does for
 * 64-bit operands.
 */
public enum AluOp {
    ADD, SUB, MUL, UDIV, UREM, AND, OR, XOR, SHL, SHR;

    /**
     * The reference semantics, for interpreters.
     *
     * @throws ArithmeticException for {@code UDIV}/{@code UREM} by zero: the guest faults
     */
    public long apply(long a, long b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case UDIV -> Long.divideUnsigned(a, b);
            case UREM -> Long.remainderUnsigned(a, b);
            case AND -> a & b;
            case OR -> a | b;
            case XOR -> a ^ b;
            case SHL -> a << (b & 63);
            case SHR -> a >>> (b & 63);
        };
    }

    /** Whether a zero right operand faults. */
    public boolean divides() {
        return this == UDIV || this == UREM;
    }
}
