// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A minimal x86-64 encoder for exactly what {@link X86Compiler} emits, written by hand so the harness needs
 * no external assembler. Methods take operands in Intel order (destination first). Where several encodings
 * exist it picks the one GNU as picks, so the golden tests can be checked against {@code as}/{@code objdump}.
 *
 * <p>Branches always use rel32 displacements: code size is then known as it is emitted, and no relaxation
 * pass is needed. Labels may be referenced before they are bound; {@link #finish()} patches and checks them.
 */
public final class X86Assembler {
    private static final int REX = 0x40;
    private static final int REX_W = 0x08;
    private static final int REX_R = 0x04;
    private static final int REX_B = 0x01;

    private record Fixup(int at, X86Label label) {
    }

    private byte[] buf = new byte[256];
    private int size;
    private final List<Fixup> fixups = new ArrayList<>();
    private final List<X86Label> labels = new ArrayList<>();
    private boolean finished;

    /** Bytes emitted so far; also the offset the next instruction will get. */
    public int position() {
        return size;
    }

    // ---- labels ----

    public X86Label newLabel() {
        X86Label l = new X86Label(this);
        labels.add(l);
        return l;
    }

    /** Places {@code label} at the current position. */
    public void bind(X86Label label) {
        own(label);
        if (label.isBound()) {
            throw new IllegalStateException("label bound twice: first at offset " + label.position + ", again at " + size);
        }
        label.position = size;
    }

    private void own(X86Label label) {
        if (label.owner != this) {
            throw new IllegalArgumentException("label belongs to another assembler");
        }
    }

    /**
     * The finished code, with every label reference patched.
     *
     * @throws IllegalStateException if a label of this assembler was never bound
     */
    public byte[] finish() {
        if (finished) {
            throw new IllegalStateException("finish() called twice");
        }
        for (Fixup f : fixups) {
            if (!f.label().isBound()) {
                throw new IllegalStateException("label referenced at offset " + f.at() + " is never bound");
            }
        }
        for (int i = 0; i < labels.size(); i++) {
            if (!labels.get(i).isBound()) {
                throw new IllegalStateException("label #" + i + " created but never bound");
            }
        }
        for (Fixup f : fixups) {
            int rel = f.label().position - (f.at() + 4);
            putInt32(f.at(), rel);
        }
        finished = true;
        return Arrays.copyOf(buf, size);
    }

    // ---- moves ----

    /** {@code movabs dst, imm64}: REX.W B8+r io. */
    public void movImm64(X86Reg dst, long imm) {
        rex(true, 0, dst.encoding(), false);
        byte1(0xB8 + dst.low3());
        imm64(imm);
    }

    /** {@code mov dst, imm32} sign-extended to 64 bits: REX.W C7 /0 id. */
    public void movImm32SignExtended(X86Reg dst, int imm) {
        rex(true, 0, dst.encoding(), false);
        byte1(0xC7);
        modrmReg(0, dst);
        imm32(imm);
    }

    /** {@code mov r32, imm32}: B8+r id; writing a 32-bit register clears bits 63:32, so this zero-extends. */
    public void movImm32(X86Reg dst, int imm) {
        rex(false, 0, dst.encoding(), false);
        byte1(0xB8 + dst.low3());
        imm32(imm);
    }

    /** Loads any 64-bit constant with the shortest of the three mov forms. Leaves the flags alone. */
    public void movImm(X86Reg dst, long imm) {
        if (imm >>> 32 == 0) {
            movImm32(dst, (int) imm);
        } else if (fitsInt32(imm)) {
            movImm32SignExtended(dst, (int) imm);
        } else {
            movImm64(dst, imm);
        }
    }

    /** {@code mov dst, src} (64-bit): REX.W 89 /r. */
    public void mov(X86Reg dst, X86Reg src) {
        arithRR(0x89, true, dst, src);
    }

    // ---- ALU ----

    /** {@code op dst, src} for the 64-bit ALU group: REX.W (op*8+1) /r. */
    public void arith(X86Arith op, X86Reg dst, X86Reg src) {
        arithRR(op.mrOpcode(), true, dst, src);
    }

    /**
     * {@code op dst, imm} with the immediate sign-extended to 64 bits: 83 /n ib when it fits a byte, the
     * short rAX form for RAX, else 81 /n id.
     */
    public void arith(X86Arith op, X86Reg dst, int imm) {
        rex(true, 0, dst.encoding(), false);
        if (imm == (byte) imm) {
            byte1(0x83);
            modrmReg(op.ext(), dst);
            byte1(imm);
        } else if (dst == X86Reg.RAX) {
            byte1(op.raxImm32Opcode());
            imm32(imm);
        } else {
            byte1(0x81);
            modrmReg(op.ext(), dst);
            imm32(imm);
        }
    }

    public void add(X86Reg dst, X86Reg src) {
        arith(X86Arith.ADD, dst, src);
    }

    public void add(X86Reg dst, int imm) {
        arith(X86Arith.ADD, dst, imm);
    }

    public void sub(X86Reg dst, X86Reg src) {
        arith(X86Arith.SUB, dst, src);
    }

    public void sub(X86Reg dst, int imm) {
        arith(X86Arith.SUB, dst, imm);
    }

    public void and(X86Reg dst, X86Reg src) {
        arith(X86Arith.AND, dst, src);
    }

    public void and(X86Reg dst, int imm) {
        arith(X86Arith.AND, dst, imm);
    }

    public void or(X86Reg dst, X86Reg src) {
        arith(X86Arith.OR, dst, src);
    }

    public void or(X86Reg dst, int imm) {
        arith(X86Arith.OR, dst, imm);
    }

    public void xor(X86Reg dst, X86Reg src) {
        arith(X86Arith.XOR, dst, src);
    }

    public void xor(X86Reg dst, int imm) {
        arith(X86Arith.XOR, dst, imm);
    }

    public void cmp(X86Reg a, X86Reg b) {
        arith(X86Arith.CMP, a, b);
    }

    public void cmp(X86Reg a, int imm) {
        arith(X86Arith.CMP, a, imm);
    }

    /** {@code xor r32, r32}: 31 /r without REX.W; the idiomatic way to zero a whole 64-bit register. */
    public void xor32(X86Reg dst, X86Reg src) {
        arithRR(0x31, false, dst, src);
    }

    /** {@code imul dst, src}: REX.W 0F AF /r; the low 64 bits of the product. */
    public void imul(X86Reg dst, X86Reg src) {
        rex(true, dst.encoding(), src.encoding(), false);
        byte1(0x0F);
        byte1(0xAF);
        modrmReg(dst.low3(), src);
    }

    /** {@code mul src}: RDX:RAX = RAX * src, unsigned. REX.W F7 /4. */
    public void mul(X86Reg src) {
        group3(4, src);
    }

    /** {@code div src}: RAX = RDX:RAX / src, RDX = remainder, unsigned; #DE on zero or overflow. REX.W F7 /6. */
    public void div(X86Reg src) {
        group3(6, src);
    }

    private void group3(int ext, X86Reg r) {
        rex(true, 0, r.encoding(), false);
        byte1(0xF7);
        modrmReg(ext, r);
    }

    /** {@code shl dst, cl}: REX.W D3 /4; the count is CL mod 64. */
    public void shlCl(X86Reg dst) {
        shiftCl(4, dst);
    }

    /** {@code shr dst, cl}: REX.W D3 /5; the count is CL mod 64. */
    public void shrCl(X86Reg dst) {
        shiftCl(5, dst);
    }

    /** {@code shl dst, count}: D1 /4 for a count of 1, else C1 /4 ib. */
    public void shl(X86Reg dst, int count) {
        shiftImm(4, dst, count);
    }

    /** {@code shr dst, count}: D1 /5 for a count of 1, else C1 /5 ib. */
    public void shr(X86Reg dst, int count) {
        shiftImm(5, dst, count);
    }

    private void shiftCl(int ext, X86Reg dst) {
        rex(true, 0, dst.encoding(), false);
        byte1(0xD3);
        modrmReg(ext, dst);
    }

    private void shiftImm(int ext, X86Reg dst, int count) {
        if (count < 0 || count > 63) {
            throw new IllegalArgumentException("64-bit shift count " + count + " outside 0..63");
        }
        rex(true, 0, dst.encoding(), false);
        if (count == 1) {
            byte1(0xD1);
            modrmReg(ext, dst);
        } else {
            byte1(0xC1);
            modrmReg(ext, dst);
            byte1(count);
        }
    }

    // ---- memory ----

    /** {@code mov dst, qword [base+disp]}: REX.W 8B /r. */
    public void load64(X86Reg dst, X86Reg base, int disp) {
        memOp(false, true, false, new int[] {0x8B}, dst.encoding(), base, disp);
    }

    /** {@code mov dst32, dword [base+disp]}: 8B /r; zero-extends into the 64-bit register. */
    public void load32(X86Reg dst, X86Reg base, int disp) {
        memOp(false, false, false, new int[] {0x8B}, dst.encoding(), base, disp);
    }

    /** {@code movzx dst32, word [base+disp]}: 0F B7 /r; zero-extends into the 64-bit register. */
    public void movzx16(X86Reg dst, X86Reg base, int disp) {
        memOp(false, false, false, new int[] {0x0F, 0xB7}, dst.encoding(), base, disp);
    }

    /** {@code movzx dst32, byte [base+disp]}: 0F B6 /r; zero-extends into the 64-bit register. */
    public void movzx8(X86Reg dst, X86Reg base, int disp) {
        memOp(false, false, false, new int[] {0x0F, 0xB6}, dst.encoding(), base, disp);
    }

    /** {@code mov qword [base+disp], src}: REX.W 89 /r. */
    public void store64(X86Reg base, int disp, X86Reg src) {
        memOp(false, true, false, new int[] {0x89}, src.encoding(), base, disp);
    }

    /** {@code mov dword [base+disp], src32}: 89 /r. */
    public void store32(X86Reg base, int disp, X86Reg src) {
        memOp(false, false, false, new int[] {0x89}, src.encoding(), base, disp);
    }

    /** {@code mov word [base+disp], src16}: 66 89 /r (the operand-size prefix goes before REX). */
    public void store16(X86Reg base, int disp, X86Reg src) {
        memOp(true, false, false, new int[] {0x89}, src.encoding(), base, disp);
    }

    /**
     * {@code mov byte [base+disp], src8}: 88 /r. SPL, BPL, SIL and DIL are only reachable with a REX prefix
     * (without one, encodings 4..7 mean AH, CH, DH, BH), so RSP..RDI sources force an empty REX.
     */
    public void store8(X86Reg base, int disp, X86Reg src) {
        boolean forceRex = src.encoding() >= 4 && src.encoding() <= 7;
        memOp(false, false, forceRex, new int[] {0x88}, src.encoding(), base, disp);
    }

    /**
     * One instruction with a {@code [base+disp]} operand. The ModRM/SIB special cases: rm=100 (RSP, R12) means
     * "a SIB byte follows", so those bases need SIB 0x24 (no index); mod=00 with rm=101 (RBP, R13) means
     * RIP-relative, so those bases always carry at least a disp8.
     */
    private void memOp(boolean opsize16, boolean w, boolean forceRex, int[] opcode, int reg, X86Reg base, int disp) {
        if (opsize16) {
            byte1(0x66);
        }
        rex(w, reg, base.encoding(), forceRex);
        for (int b : opcode) {
            byte1(b);
        }
        int mod;
        if (disp == 0 && base.low3() != 5) {
            mod = 0;
        } else if (disp == (byte) disp) {
            mod = 1;
        } else {
            mod = 2;
        }
        byte1(mod << 6 | (reg & 7) << 3 | base.low3());
        if (base.low3() == 4) {
            byte1(0x24);
        }
        if (mod == 1) {
            byte1(disp);
        } else if (mod == 2) {
            imm32(disp);
        }
    }

    // ---- control flow ----

    /** {@code jmp rel32}: E9 cd. */
    public void jmp(X86Label target) {
        own(target);
        byte1(0xE9);
        rel32(target);
    }

    /** {@code jcc rel32}: 0F 80+cc cd. */
    public void jcc(X86Cc cc, X86Label target) {
        own(target);
        byte1(0x0F);
        byte1(0x80 | cc.code());
        rel32(target);
    }

    private void rel32(X86Label target) {
        fixups.add(new Fixup(size, target));
        imm32(0);
    }

    // ---- stack ----

    /** {@code push r64}: [REX.B] 50+r. */
    public void push(X86Reg r) {
        rex(false, 0, r.encoding(), false);
        byte1(0x50 + r.low3());
    }

    /** {@code pop r64}: [REX.B] 58+r. */
    public void pop(X86Reg r) {
        rex(false, 0, r.encoding(), false);
        byte1(0x58 + r.low3());
    }

    // ---- system ----

    /** {@code out dx, eax}: EF. A 4-byte port write; under KVM it exits with KVM_EXIT_IO. */
    public void outDxEax() {
        byte1(0xEF);
    }

    /** {@code in eax, dx}: ED. */
    public void inEaxDx() {
        byte1(0xED);
    }

    /** {@code hlt}: F4. */
    public void hlt() {
        byte1(0xF4);
    }

    /** {@code pause}: F3 90, the spin-wait hint (and a PAUSE-loop exit source under KVM). */
    public void pause() {
        byte1(0xF3);
        byte1(0x90);
    }

    /** {@code lidt [base+disp]}: 0F 01 /3, loads the IDTR from the 10 bytes (limit16, base64) there. */
    public void lidt(X86Reg base, int disp) {
        memOp(false, false, false, new int[] {0x0F, 0x01}, 3, base, disp);
    }

    /** {@code lfence}: 0F AE E8. */
    public void lfence() {
        byte1(0x0F);
        byte1(0xAE);
        byte1(0xE8);
    }

    /** {@code rdtsc}: 0F 31, EDX:EAX = TSC (the upper halves of RAX and RDX cleared). */
    public void rdtsc() {
        byte1(0x0F);
        byte1(0x31);
    }

    /** {@code nop}: 90. */
    public void nop() {
        byte1(0x90);
    }

    // ---- encoding helpers ----

    public static boolean fitsInt32(long v) {
        return v == (int) v;
    }

    /** Register-register form {@code opcode /r} with ModRM.reg = src, ModRM.rm = dst. */
    private void arithRR(int opcode, boolean w, X86Reg dst, X86Reg src) {
        rex(w, src.encoding(), dst.encoding(), false);
        byte1(opcode);
        modrmReg(src.low3(), dst);
    }

    /** ModRM with mod=11 (register direct). */
    private void modrmReg(int reg, X86Reg rm) {
        byte1(0xC0 | (reg & 7) << 3 | rm.low3());
    }

    /** Emits a REX prefix when one is needed: 64-bit operand size, an extended reg or rm/base, or forced. */
    private void rex(boolean w, int reg, int rmOrBase, boolean force) {
        int rex = REX;
        if (w) {
            rex |= REX_W;
        }
        if (reg >= 8) {
            rex |= REX_R;
        }
        if (rmOrBase >= 8) {
            rex |= REX_B;
        }
        if (rex != REX || force) {
            byte1(rex);
        }
    }

    private void byte1(int b) {
        if (finished) {
            throw new IllegalStateException("assembler already finished");
        }
        if (size == buf.length) {
            buf = Arrays.copyOf(buf, buf.length * 2);
        }
        buf[size++] = (byte) b;
    }

    private void imm32(int v) {
        for (int i = 0; i < 4; i++) {
            byte1(v >>> (8 * i));
        }
    }

    private void imm64(long v) {
        for (int i = 0; i < 8; i++) {
            byte1((int) (v >>> (8 * i)));
        }
    }

    private void putInt32(int at, int v) {
        for (int i = 0; i < 4; i++) {
            buf[at + i] = (byte) (v >>> (8 * i));
        }
    }
}
