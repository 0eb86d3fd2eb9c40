// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

/**
 * A code position inside one {@link X86Assembler}, usable before it is bound (forward jumps). Only the
 * assembler that created a label may bind it or jump to it.
 */
public final class X86Label {
    final X86Assembler owner;
    int position = -1;

    X86Label(X86Assembler owner) {
        this.owner = owner;
    }

    public boolean isBound() {
        return position >= 0;
    }

    /** Offset of the bound position from the start of the code. */
    public int position() {
        if (position < 0) {
            throw new IllegalStateException("label not bound yet");
        }
        return position;
    }
}
