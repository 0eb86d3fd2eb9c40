// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/**
 * Branch conditions on two 64-bit values. Ordered comparisons are unsigned, as guest addresses, page counts
 * and sizes are; equality is sign-agnostic.
 */
public enum Cond {
    EQ, NE, ULT, ULE, UGT, UGE;

    /** The condition that holds exactly when this one does not; structured helpers branch around bodies with it. */
    public Cond negate() {
        return switch (this) {
            case EQ -> NE;
            case NE -> EQ;
            case ULT -> UGE;
            case UGE -> ULT;
            case ULE -> UGT;
            case UGT -> ULE;
        };
    }

    /** The reference semantics, for interpreters: does {@code a <cond> b} hold? */
    public boolean test(long a, long b) {
        int c = Long.compareUnsigned(a, b);
        return switch (this) {
            case EQ -> a == b;
            case NE -> a != b;
            case ULT -> c < 0;
            case ULE -> c <= 0;
            case UGT -> c > 0;
            case UGE -> c >= 0;
        };
    }
}
