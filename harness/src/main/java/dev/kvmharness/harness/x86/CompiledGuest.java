// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;
import java.util.Objects;

/**
 * A guest program compiled to x86-64 machine code. The code is position independent (only relative
 * branches, no absolute addresses) and starts executing at offset 0; copy it anywhere in guest memory that is
 * mapped executable and point RIP at it.
 *
 * @param program the IR it came from, whose {@link GuestProgram#ucallSites()} decode its ucall exits
 * @param code the machine code
 * @param insnOffsets for each instruction of {@link GuestProgram#instructions()}, the offset of its first byte
 *     in {@code code} (for mapping a RIP back to the IR when debugging a guest)
 */
public record CompiledGuest(GuestProgram program, byte[] code, int[] insnOffsets) {
    public CompiledGuest {
        Objects.requireNonNull(program, "program");
        code = code.clone();
        insnOffsets = insnOffsets.clone();
    }

    @Override
    public byte[] code() {
        return code.clone();
    }

    @Override
    public int[] insnOffsets() {
        return insnOffsets.clone();
    }

    /** The GPR that holds IR register {@code r}: what to read or write through KVM_GET/SET_REGS. */
    public X86Reg register(Reg r) {
        return X86Compiler.register(r);
    }

    /**
     * Index of the IR instruction whose code contains {@code offset} (RIP minus the load address), or -1 for
     * the register-clearing prologue and offsets outside the code. The trailing safety-net halt counts as part
     * of the program's final {@code Halt}.
     */
    public int insnAt(int offset) {
        if (offset < 0 || offset >= code.length) {
            return -1;
        }
        int found = -1;
        for (int i = 0; i < insnOffsets.length; i++) {
            int end = i + 1 < insnOffsets.length ? insnOffsets[i + 1] : code.length;
            if (insnOffsets[i] <= offset && offset < end) {
                found = i;
            }
        }
        return found;
    }
}
