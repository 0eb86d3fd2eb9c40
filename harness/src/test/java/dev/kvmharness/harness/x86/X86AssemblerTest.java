// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import static dev.kvmharness.harness.x86.X86Reg.R10;
import static dev.kvmharness.harness.x86.X86Reg.R11;
import static dev.kvmharness.harness.x86.X86Reg.R12;
import static dev.kvmharness.harness.x86.X86Reg.R13;
import static dev.kvmharness.harness.x86.X86Reg.R14;
import static dev.kvmharness.harness.x86.X86Reg.R15;
import static dev.kvmharness.harness.x86.X86Reg.R8;
import static dev.kvmharness.harness.x86.X86Reg.R9;
import static dev.kvmharness.harness.x86.X86Reg.RAX;
import static dev.kvmharness.harness.x86.X86Reg.RBP;
import static dev.kvmharness.harness.x86.X86Reg.RBX;
import static dev.kvmharness.harness.x86.X86Reg.RCX;
import static dev.kvmharness.harness.x86.X86Reg.RDI;
import static dev.kvmharness.harness.x86.X86Reg.RDX;
import static dev.kvmharness.harness.x86.X86Reg.RSI;
import static dev.kvmharness.harness.x86.X86Reg.RSP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden encodings. Every expected byte string below was produced by GNU as 2.40 ({@code as --64}, Intel
 * syntax, {@code {disp32}} on branches) and read back with {@code objdump -d}; the source line is in the case
 * name.
 */
class X86AssemblerTest {

    private static Arguments g(String asm, String hex, Consumer<X86Assembler> emit) {
        return Arguments.of(asm, hex, emit);
    }

    static Stream<Arguments> golden() {
        return Stream.of(
                // moves
                g("movabs rax, 0x123456789abcdef0", "48 b8 f0 de bc 9a 78 56 34 12", a -> a.movImm64(RAX, 0x123456789abcdef0L)),
                g("movabs r15, 0x8000000000000000", "49 bf 00 00 00 00 00 00 00 80", a -> a.movImm64(R15, Long.MIN_VALUE)),
                g("mov rcx, -1", "48 c7 c1 ff ff ff ff", a -> a.movImm32SignExtended(RCX, -1)),
                g("mov r9, -0x80000000", "49 c7 c1 00 00 00 80", a -> a.movImm32SignExtended(R9, Integer.MIN_VALUE)),
                g("mov eax, 0x7fffffff", "b8 ff ff ff 7f", a -> a.movImm32(RAX, 0x7fffffff)),
                g("mov r12d, 0xffffffff", "41 bc ff ff ff ff", a -> a.movImm32(R12, -1)),
                g("mov edx, 0x1000", "ba 00 10 00 00", a -> a.movImm32(RDX, 0x1000)),
                g("mov rdi, rsi", "48 89 f7", a -> a.mov(RDI, RSI)),
                g("mov r8, rax", "49 89 c0", a -> a.mov(R8, RAX)),
                g("mov rax, r15", "4c 89 f8", a -> a.mov(RAX, R15)),
                g("mov r13, r12", "4d 89 e5", a -> a.mov(R13, R12)),
                // register-register ALU
                g("add rdi, rsi", "48 01 f7", a -> a.add(RDI, RSI)),
                g("add r8, r9", "4d 01 c8", a -> a.add(R8, R9)),
                g("sub rbx, r10", "4c 29 d3", a -> a.sub(RBX, R10)),
                g("and rcx, r15", "4c 21 f9", a -> a.and(RCX, R15)),
                g("or r11, rdi", "49 09 fb", a -> a.or(R11, RDI)),
                g("xor rbp, rbx", "48 31 dd", a -> a.xor(RBP, RBX)),
                g("cmp rdi, r12", "4c 39 e7", a -> a.cmp(RDI, R12)),
                g("xor eax, eax", "31 c0", a -> a.xor32(RAX, RAX)),
                g("xor r10d, r10d", "45 31 d2", a -> a.xor32(R10, R10)),
                g("xor edx, edx", "31 d2", a -> a.xor32(RDX, RDX)),
                // immediates around the imm8 and imm32 sign-extension boundaries
                g("add rdi, 1", "48 83 c7 01", a -> a.add(RDI, 1)),
                g("add rdi, 127", "48 83 c7 7f", a -> a.add(RDI, 127)),
                g("add rdi, 128", "48 81 c7 80 00 00 00", a -> a.add(RDI, 128)),
                g("add rdi, -128", "48 83 c7 80", a -> a.add(RDI, -128)),
                g("add rdi, -129", "48 81 c7 7f ff ff ff", a -> a.add(RDI, -129)),
                g("add rax, 0x12345678", "48 05 78 56 34 12", a -> a.add(RAX, 0x12345678)),
                g("sub r13, 0x7fffffff", "49 81 ed ff ff ff 7f", a -> a.sub(R13, 0x7fffffff)),
                g("and r8, -0x80000000", "49 81 e0 00 00 00 80", a -> a.and(R8, Integer.MIN_VALUE)),
                g("or rsi, 0x40", "48 83 ce 40", a -> a.or(RSI, 0x40)),
                g("xor r15, -1", "49 83 f7 ff", a -> a.xor(R15, -1)),
                g("cmp rbx, 0x1000", "48 81 fb 00 10 00 00", a -> a.cmp(RBX, 0x1000)),
                g("cmp rax, 0x100", "48 3d 00 01 00 00", a -> a.cmp(RAX, 0x100)),
                g("cmp r12, 5", "49 83 fc 05", a -> a.cmp(R12, 5)),
                // multiply and divide
                g("imul rdi, rsi", "48 0f af fe", a -> a.imul(RDI, RSI)),
                g("imul r8, rax", "4c 0f af c0", a -> a.imul(R8, RAX)),
                g("imul rax, r15", "49 0f af c7", a -> a.imul(RAX, R15)),
                g("mul rcx", "48 f7 e1", a -> a.mul(RCX)),
                g("mul r11", "49 f7 e3", a -> a.mul(R11)),
                g("div rbx", "48 f7 f3", a -> a.div(RBX)),
                g("div r14", "49 f7 f6", a -> a.div(R14)),
                // shifts
                g("shl rdi, cl", "48 d3 e7", a -> a.shlCl(RDI)),
                g("shr r9, cl", "49 d3 e9", a -> a.shrCl(R9)),
                g("shl rdx, cl", "48 d3 e2", a -> a.shlCl(RDX)),
                g("shl rax, 1", "48 d1 e0", a -> a.shl(RAX, 1)),
                g("shr r12, 1", "49 d1 ec", a -> a.shr(R12, 1)),
                g("shl rbx, 63", "48 c1 e3 3f", a -> a.shl(RBX, 63)),
                g("shr r15, 12", "49 c1 ef 0c", a -> a.shr(R15, 12)),
                // loads: disp0/disp8/disp32, and the RSP/R12 (SIB) and RBP/R13 (no disp0) bases
                g("mov rax, [rbx]", "48 8b 03", a -> a.load64(RAX, RBX, 0)),
                g("mov rax, [rbx+0x10]", "48 8b 43 10", a -> a.load64(RAX, RBX, 0x10)),
                g("mov rax, [rbx-0x80]", "48 8b 43 80", a -> a.load64(RAX, RBX, -0x80)),
                g("mov rax, [rbx+0x80]", "48 8b 83 80 00 00 00", a -> a.load64(RAX, RBX, 0x80)),
                g("mov rax, [rbx-0x81]", "48 8b 83 7f ff ff ff", a -> a.load64(RAX, RBX, -0x81)),
                g("mov rdi, [rsp]", "48 8b 3c 24", a -> a.load64(RDI, RSP, 0)),
                g("mov rdi, [rsp+8]", "48 8b 7c 24 08", a -> a.load64(RDI, RSP, 8)),
                g("mov rdi, [r12]", "49 8b 3c 24", a -> a.load64(RDI, R12, 0)),
                g("mov r8, [r12+0x12345678]", "4d 8b 84 24 78 56 34 12", a -> a.load64(R8, R12, 0x12345678)),
                g("mov rsi, [rbp]", "48 8b 75 00", a -> a.load64(RSI, RBP, 0)),
                g("mov rsi, [rbp+0x40]", "48 8b 75 40", a -> a.load64(RSI, RBP, 0x40)),
                g("mov r15, [r13]", "4d 8b 7d 00", a -> a.load64(R15, R13, 0)),
                g("mov r15, [r13-4]", "4d 8b 7d fc", a -> a.load64(R15, R13, -4)),
                g("mov eax, [rdi]", "8b 07", a -> a.load32(RAX, RDI, 0)),
                g("mov r11d, [r10+0x100]", "45 8b 9a 00 01 00 00", a -> a.load32(R11, R10, 0x100)),
                g("movzx eax, byte ptr [rbx]", "0f b6 03", a -> a.movzx8(RAX, RBX, 0)),
                g("movzx r9d, byte ptr [r13]", "45 0f b6 4d 00", a -> a.movzx8(R9, R13, 0)),
                g("movzx edi, word ptr [rsi+2]", "0f b7 7e 02", a -> a.movzx16(RDI, RSI, 2)),
                g("movzx r14d, word ptr [rsp-0x1000]", "44 0f b7 b4 24 00 f0 ff ff", a -> a.movzx16(R14, RSP, -0x1000)),
                // stores, including the byte registers that need an empty REX
                g("mov [rbx], rax", "48 89 03", a -> a.store64(RBX, 0, RAX)),
                g("mov [r12+8], r8", "4d 89 44 24 08", a -> a.store64(R12, 8, R8)),
                g("mov [rbp], rdi", "48 89 7d 00", a -> a.store64(RBP, 0, RDI)),
                g("mov [r13+0x7fffffff], r15", "4d 89 bd ff ff ff 7f", a -> a.store64(R13, 0x7fffffff, R15)),
                g("mov [rsp-0x80000000], rcx", "48 89 8c 24 00 00 00 80", a -> a.store64(RSP, Integer.MIN_VALUE, RCX)),
                g("mov [rdi], esi", "89 37", a -> a.store32(RDI, 0, RSI)),
                g("mov [r10+4], r11d", "45 89 5a 04", a -> a.store32(R10, 4, R11)),
                g("mov [rbx], si", "66 89 33", a -> a.store16(RBX, 0, RSI)),
                g("mov [r12], r9w", "66 45 89 0c 24", a -> a.store16(R12, 0, R9)),
                g("mov [rbp+2], bx", "66 89 5d 02", a -> a.store16(RBP, 2, RBX)),
                g("mov [rdi], sil", "40 88 37", a -> a.store8(RDI, 0, RSI)),
                g("mov [rsi], dil", "40 88 3e", a -> a.store8(RSI, 0, RDI)),
                g("mov [rbx], bpl", "40 88 2b", a -> a.store8(RBX, 0, RBP)),
                g("mov [rbx], spl", "40 88 23", a -> a.store8(RBX, 0, RSP)),
                g("mov [rax], bl", "88 18", a -> a.store8(RAX, 0, RBX)),
                g("mov [rcx], cl", "88 09", a -> a.store8(RCX, 0, RCX)),
                g("mov [r8], r15b", "45 88 38", a -> a.store8(R8, 0, R15)),
                g("mov [r13], al", "41 88 45 00", a -> a.store8(R13, 0, RAX)),
                // stack and system
                g("push rbx", "53", a -> a.push(RBX)),
                g("push r12", "41 54", a -> a.push(R12)),
                g("pop rcx", "59", a -> a.pop(RCX)),
                g("pop r15", "41 5f", a -> a.pop(R15)),
                g("out dx, eax", "ef", X86Assembler::outDxEax),
                g("in eax, dx", "ed", X86Assembler::inEaxDx),
                g("hlt", "f4", X86Assembler::hlt),
                g("pause", "f3 90", X86Assembler::pause),
                g("lidt [rsp+6]", "0f 01 5c 24 06", a -> a.lidt(RSP, 6)),
                g("lidt [rdi]", "0f 01 1f", a -> a.lidt(RDI, 0)),
                g("lidt [r13+0]", "41 0f 01 5d 00", a -> a.lidt(R13, 0)),
                g("lfence", "0f ae e8", X86Assembler::lfence),
                g("rdtsc", "0f 31", X86Assembler::rdtsc),
                g("nop", "90", X86Assembler::nop));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("golden")
    void encodesLikeGnuAs(String asm, String hex, Consumer<X86Assembler> emit) {
        X86Assembler a = new X86Assembler();
        emit.accept(a);
        assertThat(Hex.of(a.finish())).as(asm).isEqualTo(Hex.of(Hex.bytes(hex)));
    }

    /** back: nop; jmp back; jmp fwd; je back; jne fwd; jb fwd; jae back; jbe fwd; ja back; self: jmp self; fwd: hlt. */
    @Test
    void rel32BranchesForwardBackwardAndToSelf() {
        X86Assembler a = new X86Assembler();
        X86Label back = a.newLabel();
        X86Label fwd = a.newLabel();
        X86Label self = a.newLabel();
        a.bind(back);
        a.nop();
        a.jmp(back);
        a.jmp(fwd);
        a.jcc(X86Cc.E, back);
        a.jcc(X86Cc.NE, fwd);
        a.jcc(X86Cc.B, fwd);
        a.jcc(X86Cc.AE, back);
        a.jcc(X86Cc.BE, fwd);
        a.jcc(X86Cc.A, back);
        a.bind(self);
        a.jmp(self);
        a.bind(fwd);
        a.hlt();
        assertThat(Hex.of(a.finish())).isEqualTo(Hex.of(Hex.bytes(
                "90 e9 fa ff ff ff e9 29 00 00 00 0f 84 ef ff ff ff 0f 85 1d 00 00 00 0f 82 17 00 00 00"
                        + " 0f 83 dd ff ff ff 0f 86 0b 00 00 00 0f 87 d1 ff ff ff e9 fb ff ff ff f4")));
        assertThat(fwd.position()).isEqualTo(0x34);
    }

    @Test
    void movImmPicksTheShortestForm() {
        assertThat(encode(a -> a.movImm(RDI, 0))).isEqualTo(encode(a -> a.movImm32(RDI, 0)));
        assertThat(encode(a -> a.movImm(RDI, 0xffffffffL))).isEqualTo(encode(a -> a.movImm32(RDI, -1)));
        assertThat(encode(a -> a.movImm(RDI, -1))).isEqualTo(encode(a -> a.movImm32SignExtended(RDI, -1)));
        assertThat(encode(a -> a.movImm(RDI, Integer.MIN_VALUE)))
                .isEqualTo(encode(a -> a.movImm32SignExtended(RDI, Integer.MIN_VALUE)));
        assertThat(encode(a -> a.movImm(RDI, 0x100000000L))).isEqualTo(encode(a -> a.movImm64(RDI, 0x100000000L)));
        assertThat(encode(a -> a.movImm(RDI, 0xffffffff7fffffffL)))
                .isEqualTo(encode(a -> a.movImm64(RDI, 0xffffffff7fffffffL)));
    }

    @Test
    void growsPastItsInitialBuffer() {
        X86Assembler a = new X86Assembler();
        X86Label top = a.newLabel();
        a.bind(top);
        for (int i = 0; i < 1000; i++) {
            a.movImm64(R15, i);
        }
        a.jmp(top);
        byte[] code = a.finish();
        assertThat(code).hasSize(10_005);
        int rel = (code[10_001] & 0xff) | (code[10_002] & 0xff) << 8 | (code[10_003] & 0xff) << 16 | code[10_004] << 24;
        assertThat(rel).isEqualTo(-10_005);
    }

    @Test
    void labelBoundTwiceIsRejected() {
        X86Assembler a = new X86Assembler();
        X86Label l = a.newLabel();
        a.bind(l);
        a.nop();
        assertThatThrownBy(() -> a.bind(l)).isInstanceOf(IllegalStateException.class).hasMessageContaining("twice");
    }

    @Test
    void unboundLabelsAreRejectedAtFinish() {
        X86Assembler referenced = new X86Assembler();
        referenced.jmp(referenced.newLabel());
        assertThatThrownBy(referenced::finish).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("never bound");

        X86Assembler created = new X86Assembler();
        created.newLabel();
        created.nop();
        assertThatThrownBy(created::finish).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("never bound");
    }

    @Test
    void labelsDoNotCrossAssemblers() {
        X86Assembler a = new X86Assembler();
        X86Assembler b = new X86Assembler();
        X86Label foreign = b.newLabel();
        assertThatThrownBy(() -> a.jmp(foreign)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.bind(foreign)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shiftCountsOutsideTheRegisterWidthAreRejected() {
        X86Assembler a = new X86Assembler();
        assertThatThrownBy(() -> a.shl(RAX, 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.shr(RAX, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void finishedAssemblerTakesNoMoreCode() {
        X86Assembler a = new X86Assembler();
        a.nop();
        a.finish();
        assertThatThrownBy(a::nop).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(a::finish).isInstanceOf(IllegalStateException.class);
    }

    private static String encode(Consumer<X86Assembler> emit) {
        X86Assembler a = new X86Assembler();
        emit.accept(a);
        return Hex.of(a.finish());
    }
}
