// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Insn;
import dev.kvmharness.harness.guest.Reg;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Insn.ReadTsc}'s x86 lowering, byte for byte. */
class ReadTscLoweringTest {
    /**
     * GNU as 2.40 ({@code as --64}, Intel syntax) on {@code lfence; rdtsc; shl rdx, 32; or rax, rdx; mov rdi, rax}
     * and the same ending {@code mov r15, rax}, read back with objdump.
     */
    private static final String INTO_RDI = "0f ae e8 0f 31 48 c1 e2 20 48 09 d0 48 89 c7";
    private static final String INTO_R15 = "0f ae e8 0f 31 48 c1 e2 20 48 09 d0 49 89 c7";

    @Test
    void readTscIsLfenceRdtscAndCombinesEdxEaxIntoTheDestination() {
        GuestProgram p = GuestProgram.define("tsc", g -> {
            Reg first = g.arg(0);
            g.readTsc(first);
            g.readTsc(Reg.of(Reg.COUNT - 1));
        });
        CompiledGuest c = X86Compiler.compile(p);
        List<Insn> insns = p.instructions();
        assertThat(c.register(((Insn.ReadTsc) insns.get(0)).dst())).isEqualTo(X86Reg.RDI);
        assertThat(c.register(((Insn.ReadTsc) insns.get(1)).dst())).isEqualTo(X86Reg.R15);
        assertThat(Hex.of(slice(c, 0))).isEqualTo(Hex.of(Hex.bytes(INTO_RDI)));
        assertThat(Hex.of(slice(c, 1))).isEqualTo(Hex.of(Hex.bytes(INTO_R15)));
    }

    private static byte[] slice(CompiledGuest c, int insn) {
        int[] off = c.insnOffsets();
        return Arrays.copyOfRange(c.code(), off[insn], off[insn + 1]);
    }
}
