// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Insn;
import dev.kvmharness.harness.guest.Label;
import dev.kvmharness.harness.guest.Reg;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Checks the shape of compiled code without running it: the lowering of every IR form against bytes from
 * GNU as, the ucall and halt sequences the host relies on, the prologue, and that every branch lands on its
 * label. Whether the code computes the right values is for the real-KVM tests to show.
 */
class X86CompilerTest {

    /** One of every IR form, and the awkward operand combinations of the lowering (RCX in shifts and divides). */
    static final GuestProgram ALL_FORMS = GuestProgram.define("all_forms", g -> {
        Reg a = g.arg(0); // rdi
        Reg b = g.arg(1); // rsi
        Reg c = Reg.of(2); // rcx, the shift-count register
        Reg t = g.temp(); // r6 = rbp
        Reg rbx = Reg.of(5);
        Reg r12 = Reg.of(9);
        Reg r13 = Reg.of(10);
        Label top = g.label();
        Label out = g.label();
        g.bind(top);
        g.mov(t, 0x0123456789ABCDEFL);
        g.mov(t, a);
        g.mov(t, t);
        g.add(a, b);
        g.add(a, 0x100000000L);
        g.sub(a, -5);
        g.mul(a, b);
        g.mul(a, 10);
        g.udiv(a, b);
        g.urem(a, 100);
        g.urem(c, 7);
        g.shl(a, b);
        g.shr(c, b);
        g.shl(a, c);
        g.shr(a, 70);
        g.shl(a, 64);
        g.load8(t, a, 1);
        g.load16(t, r12, 0);
        g.load32(t, t, 8);
        g.load64(t, rbx, -0x1000);
        g.store8(a, -1, b);
        g.store16(r13, 0, b);
        g.store32(a, 0x100, b);
        g.store64(a, 0, b);
        g.branch(Cond.ULT, a, b, top);
        g.branch(Cond.UGE, a, 5, out);
        g.branch(Cond.EQ, a, 0x100000000L, out);
        g.branch(Cond.NE, a, -1, top);
        g.branch(Cond.ULE, a, 0xffffffffL, top);
        g.branch(Cond.UGT, a, b, out);
        g.sync(1);
        g.pause();
        g.jump(top);
        g.bind(out);
        g.done();
    });

    /** Assembled from the equivalent hand-written source with GNU as 2.40 and read back with objdump. */
    static final String ALL_FORMS_GOLDEN = ""
            + " 31 c9" // xor ecx,ecx           (prologue: r2..r12 start at 0)
            + " 45 31 c0" // xor r8d,r8d
            + " 45 31 c9" // xor r9d,r9d
            + " 31 db" // xor ebx,ebx
            + " 31 ed" // xor ebp,ebp
            + " 45 31 d2" // xor r10d,r10d
            + " 45 31 db" // xor r11d,r11d
            + " 45 31 e4" // xor r12d,r12d
            + " 45 31 ed" // xor r13d,r13d
            + " 45 31 f6" // xor r14d,r14d
            + " 45 31 ff" // xor r15d,r15d
            + " 48 bd ef cd ab 89 67 45 23 01" // top: movabs rbp,0x123456789abcdef
            + " 48 89 fd" // mov rbp,rdi
            + " 48 01 f7" // add rdi,rsi
            + " 48 b8 00 00 00 00 01 00 00 00" // movabs rax,0x100000000
            + " 48 01 c7" // add rdi,rax
            + " 48 83 ef fb" // sub rdi,-5
            + " 48 0f af fe" // imul rdi,rsi
            + " b8 0a 00 00 00" // mov eax,0xa
            + " 48 0f af f8" // imul rdi,rax
            + " 48 89 f8" // mov rax,rdi
            + " 31 d2" // xor edx,edx
            + " 48 f7 f6" // div rsi
            + " 48 89 c7" // mov rdi,rax
            + " 51" // push rcx
            + " b9 64 00 00 00" // mov ecx,0x64
            + " 48 89 f8" // mov rax,rdi
            + " 31 d2" // xor edx,edx
            + " 48 f7 f1" // div rcx
            + " 59" // pop rcx
            + " 48 89 d7" // mov rdi,rdx
            + " 53" // push rbx
            + " bb 07 00 00 00" // mov ebx,0x7
            + " 48 89 c8" // mov rax,rcx
            + " 31 d2" // xor edx,edx
            + " 48 f7 f3" // div rbx
            + " 5b" // pop rbx
            + " 48 89 d1" // mov rcx,rdx
            + " 48 89 ca" // mov rdx,rcx
            + " 48 89 f1" // mov rcx,rsi
            + " 48 d3 e7" // shl rdi,cl
            + " 48 89 d1" // mov rcx,rdx
            + " 48 89 ca" // mov rdx,rcx
            + " 48 89 f1" // mov rcx,rsi
            + " 48 d3 ea" // shr rdx,cl
            + " 48 89 d1" // mov rcx,rdx
            + " 48 d3 e7" // shl rdi,cl
            + " 48 c1 ef 06" // shr rdi,0x6
            + " 0f b6 6f 01" // movzx ebp,BYTE PTR [rdi+0x1]
            + " 41 0f b7 2c 24" // movzx ebp,WORD PTR [r12]
            + " 8b 6d 08" // mov ebp,DWORD PTR [rbp+0x8]
            + " 48 8b ab 00 f0 ff ff" // mov rbp,QWORD PTR [rbx-0x1000]
            + " 40 88 77 ff" // mov BYTE PTR [rdi-0x1],sil
            + " 66 41 89 75 00" // mov WORD PTR [r13+0x0],si
            + " 89 b7 00 01 00 00" // mov DWORD PTR [rdi+0x100],esi
            + " 48 89 37" // mov QWORD PTR [rdi],rsi
            + " 48 39 f7" // cmp rdi,rsi
            + " 0f 82 56 ff ff ff" // jb top
            + " 48 83 ff 05" // cmp rdi,0x5
            + " 0f 83 46 00 00 00" // jae out
            + " 48 b8 00 00 00 00 01 00 00 00" // movabs rax,0x100000000
            + " 48 39 c7" // cmp rdi,rax
            + " 0f 84 33 00 00 00" // je out
            + " 48 83 ff ff" // cmp rdi,-1
            + " 0f 85 2f ff ff ff" // jne top
            + " b8 ff ff ff ff" // mov eax,0xffffffff
            + " 48 39 c7" // cmp rdi,rax
            + " 0f 86 21 ff ff ff" // jbe top
            + " 48 39 f7" // cmp rdi,rsi
            + " 0f 87 12 00 00 00" // ja out
            + " b8 00 00 00 00" // mov eax,0x0          (ucall site 0: sync 1)
            + " ba 00 10 00 00" // mov edx,0x1000
            + " ef" // out dx,eax
            + " f3 90" // pause
            + " e9 06 ff ff ff" // jmp top
            + " b8 01 00 00 00" // out: mov eax,0x1  (ucall site 1: done)
            + " ba 00 10 00 00" // mov edx,0x1000
            + " ef" // out dx,eax
            + " f4" // h1: hlt                  (the program's final Halt)
            + " e9 fa ff ff ff" // jmp h1
            + " f4" // h2: hlt                  (the compiler's safety net)
            + " e9 fa ff ff ff"; // jmp h2

    /** lidt takes a memory operand: the pseudo-descriptor goes below RSP (GNU as 2.40 bytes, read back with objdump). */
    @Test
    void setIdtBuildsThePseudoDescriptorOnTheStack() {
        GuestProgram p = GuestProgram.define("lidt", g -> g.setIdt(g.arg(0), g.arg(1)));
        CompiledGuest c = X86Compiler.compile(p);
        int start = c.insnOffsets()[0];
        int end = c.insnOffsets()[1];
        byte[] lowered = java.util.Arrays.copyOfRange(c.code(), start, end);
        assertThat(Hex.of(lowered)).isEqualTo(Hex.of(Hex.bytes(""
                + " 48 83 ec 10" // sub rsp,0x10
                + " 48 89 7c 24 08" // mov [rsp+0x8],rdi   (base)
                + " 48 89 f0" // mov rax,rsi
                + " 66 89 44 24 06" // mov [rsp+0x6],ax    (limit)
                + " 0f 01 5c 24 06" // lidt [rsp+0x6]
                + " 48 83 c4 10"))); // add rsp,0x10
    }

    @Test
    void lowersEveryFormLikeTheHandWrittenAssembly() {
        CompiledGuest c = X86Compiler.compile(ALL_FORMS);
        assertThat(Hex.of(c.code())).isEqualTo(Hex.of(Hex.bytes(ALL_FORMS_GOLDEN)));
        assertThat(c.program()).isSameAs(ALL_FORMS);
    }

    @Test
    void registerMapIsFixedAndAvoidsTheScratchAndStackRegisters() {
        assertThat(X86Compiler.REGISTER_MAP).containsExactly(X86Reg.RDI, X86Reg.RSI, X86Reg.RCX, X86Reg.R8, X86Reg.R9,
                X86Reg.RBX, X86Reg.RBP, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15);
        assertThat(X86Compiler.REGISTER_MAP).doesNotHaveDuplicates()
                .doesNotContain(X86Reg.RAX, X86Reg.RDX, X86Reg.RSP).hasSize(Reg.COUNT);
        CompiledGuest c = X86Compiler.compile(ALL_FORMS);
        for (int i = 0; i < Reg.COUNT; i++) {
            assertThat(c.register(Reg.of(i))).isEqualTo(X86Compiler.REGISTER_MAP.get(i));
        }
    }

    @Test
    void ucallIsASiteIndexWrittenToTheUcallPort() {
        GuestProgram p = GuestProgram.define("ucalls", g -> {
            Reg r = g.temp();
            g.printf("x=%lu", r);
            g.sync(r);
            g.sync(7);
            g.done();
        });
        CompiledGuest c = X86Compiler.compile(p);
        assertThat(X86Compiler.UCALL_PORT).isEqualTo(0x1000);
        int seen = 0;
        for (int i = 0; i < p.instructions().size(); i++) {
            if (p.instructions().get(i) instanceof Insn.Ucall u) {
                byte[] expected = Hex.bytes(String.format("b8 %02x 00 00 00 ba 00 10 00 00 ef", u.site()));
                assertThat(slice(c, i)).as("ucall %d", u.site()).containsExactly(expected);
                seen++;
            }
        }
        assertThat(seen).isEqualTo(4);
    }

    @Test
    void haltLoopsOnHltAndCodeEndsWithASafetyNet() {
        GuestProgram p = GuestProgram.define("halts", g -> {
            g.halt();
            g.pause();
        });
        CompiledGuest c = X86Compiler.compile(p);
        byte[] hltLoop = Hex.bytes("f4 e9 fa ff ff ff");
        assertThat(slice(c, 0)).containsExactly(hltLoop);
        assertThat(slice(c, 1)).containsExactly(Hex.bytes("f3 90"));
        // the appended IR Halt, then the compiler's own one
        assertThat(Hex.of(c.code())).endsWith(Hex.of(hltLoop) + " " + Hex.of(hltLoop));
    }

    @Test
    void prologueZeroesExactlyTheNonArgumentRegisters() {
        GuestProgram sixArgs = GuestProgram.define("six", g -> {
            for (int i = 0; i < Reg.ARG_COUNT; i++) {
                g.arg(i);
            }
        });
        CompiledGuest c6 = X86Compiler.compile(sixArgs);
        // rbp, r10..r15: r6..r12
        assertThat(Hex.of(java.util.Arrays.copyOf(c6.code(), c6.insnOffsets()[0])))
                .isEqualTo("31 ed 45 31 d2 45 31 db 45 31 e4 45 31 ed 45 31 f6 45 31 ff");

        GuestProgram none = GuestProgram.define("none", g -> g.pause());
        CompiledGuest c0 = X86Compiler.compile(none);
        assertThat(Hex.of(java.util.Arrays.copyOf(c0.code(), c0.insnOffsets()[0])))
                .isEqualTo("31 ff 31 f6 31 c9 45 31 c0 45 31 c9 31 db 31 ed 45 31 d2 45 31 db 45 31 e4 45 31 ed 45 31 f6 45 31 ff");
    }

    @Test
    void everyBranchLandsOnItsLabel() {
        GuestProgram p = GuestProgram.define("nested", g -> {
            Reg n = g.arg(0);
            Reg i = g.temp();
            Reg j = g.temp();
            g.loop(() -> {
                g.mov(i, 0);
                g.whileTrue(Cond.ULT, i, n, () -> {
                    g.mov(j, i);
                    g.whileTrue(Cond.NE, j, 0, () -> {
                        g.sub(j, 1);
                        g.ifElse(Cond.UGT, j, 0x1_0000_0000L, () -> g.pause(), () -> g.printf("j=%lx", j));
                    });
                    g.guestAssert(Cond.EQ, j, 0, "j did not reach 0");
                    g.add(i, 1);
                });
                g.sync(i);
            });
        });
        CompiledGuest c = X86Compiler.compile(p);
        int checked = 0;
        for (int k = 0; k < p.instructions().size(); k++) {
            Label target = GuestProgram.targetOf(p.instructions().get(k));
            if (target == null) {
                continue;
            }
            int end = end(c, k);
            int rel = readInt32(c.code(), end - 4);
            assertThat(end + rel).as("insn #%d %s", k, p.instructions().get(k))
                    .isEqualTo(c.insnOffsets()[p.bindIndex(target)]);
            checked++;
        }
        assertThat(checked).isGreaterThanOrEqualTo(8);
    }

    @Test
    void insnOffsetsMapCodeBackToTheIr() {
        CompiledGuest c = X86Compiler.compile(ALL_FORMS);
        int[] offsets = c.insnOffsets();
        assertThat(c.insnAt(0)).isEqualTo(-1);
        assertThat(c.insnAt(c.code().length)).isEqualTo(-1);
        Set<Integer> found = new HashSet<>();
        for (int off = offsets[0]; off < c.code().length; off++) {
            found.add(c.insnAt(off));
        }
        List<Insn> insns = ALL_FORMS.instructions();
        for (int i = 0; i < insns.size(); i++) {
            boolean empty = end(c, i) == offsets[i];
            assertThat(found.contains(i)).as("insn #%d %s", i, insns.get(i)).isEqualTo(!empty);
        }
        // Bind and the self-move emit nothing
        assertThat(insns.get(0)).isInstanceOf(Insn.Bind.class);
        assertThat(offsets[0]).isEqualTo(offsets[1]);
    }

    @Test
    void compiledCodeIsACopy() {
        CompiledGuest c = X86Compiler.compile(ALL_FORMS);
        byte[] code = c.code();
        code[0] ^= 0x55;
        assertThat(c.code()[0]).isNotEqualTo(code[0]);
    }

    private static byte[] slice(CompiledGuest c, int insn) {
        return java.util.Arrays.copyOfRange(c.code(), c.insnOffsets()[insn], end(c, insn));
    }

    private static int end(CompiledGuest c, int insn) {
        int[] offsets = c.insnOffsets();
        return insn + 1 < offsets.length ? offsets[insn + 1] : c.code().length;
    }

    private static int readInt32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | b[at + 3] << 24;
    }
}
