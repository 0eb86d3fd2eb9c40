// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import dev.kvmharness.harness.guest.AluOp;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Insn;
import dev.kvmharness.harness.guest.Label;
import dev.kvmharness.harness.guest.Reg;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Compiles the guest IR to x86-64 long-mode machine code for the real-KVM backend.
 *
 * <p>The contract with the host side:
 * <ul>
 *   <li>IR registers live in fixed GPRs ({@link #REGISTER_MAP}), so the host sets arguments and reads ucall
 *       values with KVM_SET_REGS/KVM_GET_REGS. RAX and RDX are scratch; RSP must point at a valid stack
 *       (division by an immediate saves a register there).</li>
 *   <li>Execution starts at offset 0 with a prologue that zeroes every IR register from
 *       {@link GuestProgram#argCount()} on, so set the arguments before the first KVM_RUN.</li>
 *   <li>A ucall is {@code mov eax, site; mov edx, UCALL_PORT; out dx, eax}: a 4-byte write to port
 *       {@link #UCALL_PORT} whose data is the index into {@link GuestProgram#ucallSites()}. KVM exits with
 *       KVM_EXIT_IO; on the next KVM_RUN the guest continues after the {@code out}.</li>
 *   <li>{@code Halt} is {@code hlt} in a loop, so a resumed vCPU halts again; the compiled code always ends with
 *       one more such loop in case control ever ran past the end.</li>
 * </ul>
 */
public final class X86Compiler {
    /** The I/O port guest ucalls write their site index to. */
    public static final int UCALL_PORT = 0x1000;

    /**
     * IR register {@code i} lives in {@code REGISTER_MAP.get(i)}. Arguments take the System V argument
     * registers in order, with RDX (needed by mul/div) swapped for RBX.
     */
    public static final List<X86Reg> REGISTER_MAP = List.of(
            X86Reg.RDI, X86Reg.RSI, X86Reg.RCX, X86Reg.R8, X86Reg.R9, X86Reg.RBX, X86Reg.RBP,
            X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15);

    /** Scratch register for immediates that do not fit an instruction, and the dividend's low half. */
    private static final X86Reg SCRATCH = X86Reg.RAX;
    /** Scratch register for the dividend's high half, remainders, and saving RCX around variable shifts. */
    private static final X86Reg SCRATCH2 = X86Reg.RDX;

    private final X86Assembler asm = new X86Assembler();
    private final IdentityHashMap<Label, X86Label> labels = new IdentityHashMap<>();

    private X86Compiler() {
    }

    public static X86Reg register(Reg r) {
        return REGISTER_MAP.get(r.index());
    }

    public static CompiledGuest compile(GuestProgram program) {
        return new X86Compiler().run(program);
    }

    private CompiledGuest run(GuestProgram p) {
        for (int i = p.argCount(); i < Reg.COUNT; i++) {
            X86Reg r = REGISTER_MAP.get(i);
            asm.xor32(r, r);
        }
        List<Insn> insns = p.instructions();
        int[] offsets = new int[insns.size()];
        for (int i = 0; i < insns.size(); i++) {
            offsets[i] = asm.position();
            emit(insns.get(i));
        }
        halt();
        return new CompiledGuest(p, asm.finish(), offsets);
    }

    private X86Label label(Label l) {
        return labels.computeIfAbsent(l, k -> asm.newLabel());
    }

    private static X86Reg x(Reg r) {
        return register(r);
    }

    private void emit(Insn insn) {
        insn.accept(lowering);
    }

    /**
     * The x86 lowering of each IR instruction. A {@link Insn.Visitor}, so an instruction without a lowering here
     * does not compile.
     */
    private final Insn.Visitor<Void> lowering = new Insn.Visitor<>() {
        @Override
        public Void movImm(Insn.MovImm m) {
            asm.movImm(x(m.dst()), m.imm());
            return null;
        }

        @Override
        public Void mov(Insn.Mov m) {
            if (!m.dst().equals(m.src())) {
                asm.mov(x(m.dst()), x(m.src()));
            }
            return null;
        }

        @Override
        public Void alu(Insn.Alu a) {
            X86Compiler.this.alu(a.op(), x(a.dst()), x(a.src()));
            return null;
        }

        @Override
        public Void aluImm(Insn.AluImm a) {
            X86Compiler.this.aluImm(a.op(), x(a.dst()), a.imm());
            return null;
        }

        @Override
        public Void load(Insn.Load l) {
            X86Compiler.this.load(l);
            return null;
        }

        @Override
        public Void store(Insn.Store s) {
            X86Compiler.this.store(s);
            return null;
        }

        @Override
        public Void jump(Insn.Jump j) {
            asm.jmp(label(j.target()));
            return null;
        }

        @Override
        public Void branch(Insn.Branch b) {
            asm.cmp(x(b.a()), x(b.b()));
            asm.jcc(cc(b.cond()), label(b.target()));
            return null;
        }

        @Override
        public Void branchImm(Insn.BranchImm b) {
            if (X86Assembler.fitsInt32(b.imm())) {
                asm.cmp(x(b.a()), (int) b.imm());
            } else {
                asm.movImm(SCRATCH, b.imm());
                asm.cmp(x(b.a()), SCRATCH);
            }
            asm.jcc(cc(b.cond()), label(b.target()));
            return null;
        }

        @Override
        public Void bind(Insn.Bind b) {
            asm.bind(label(b.label()));
            return null;
        }

        @Override
        public Void ucall(Insn.Ucall u) {
            X86Compiler.this.ucall(u.site());
            return null;
        }

        @Override
        public Void setIdt(Insn.SetIdt t) {
            X86Compiler.this.setIdt(x(t.base()), x(t.limit()));
            return null;
        }

        @Override
        public Void readTsc(Insn.ReadTsc t) {
            X86Compiler.this.readTsc(x(t.dst()));
            return null;
        }

        @Override
        public Void pause(Insn.Pause p) {
            asm.pause();
            return null;
        }

        @Override
        public Void halt(Insn.Halt h) {
            X86Compiler.this.halt();
            return null;
        }
    };

    /** The unsigned (or equality) Jcc that is taken exactly when {@code cond} holds after {@code cmp a, b}. */
    static X86Cc cc(Cond cond) {
        return switch (cond) {
            case EQ -> X86Cc.E;
            case NE -> X86Cc.NE;
            case ULT -> X86Cc.B;
            case ULE -> X86Cc.BE;
            case UGT -> X86Cc.A;
            case UGE -> X86Cc.AE;
        };
    }

    private void alu(AluOp op, X86Reg dst, X86Reg src) {
        switch (op) {
            case ADD -> asm.add(dst, src);
            case SUB -> asm.sub(dst, src);
            case AND -> asm.and(dst, src);
            case OR -> asm.or(dst, src);
            case XOR -> asm.xor(dst, src);
            case MUL -> asm.imul(dst, src);
            case UDIV, UREM -> divide(op, dst, src);
            case SHL, SHR -> shiftByRegister(op, dst, src);
        }
    }

    /**
     * {@code div} divides RDX:RAX, both scratch, so the divisor (an IR register, never RAX or RDX) stays
     * untouched; {@code dst == src} works too.
     */
    private void divide(AluOp op, X86Reg dst, X86Reg divisor) {
        asm.mov(SCRATCH, dst);
        asm.xor32(SCRATCH2, SCRATCH2);
        asm.div(divisor);
        asm.mov(dst, op == AluOp.UDIV ? SCRATCH : SCRATCH2);
    }

    /**
     * x86 variable shifts take their count in CL, but RCX holds an IR register. Unless the count already is
     * RCX, park RCX in RDX, load the count, shift, restore; if RCX is also the destination, shift the parked
     * copy and move it back.
     */
    private void shiftByRegister(AluOp op, X86Reg dst, X86Reg count) {
        if (count == X86Reg.RCX) {
            shiftCl(op, dst);
            return;
        }
        asm.mov(SCRATCH2, X86Reg.RCX);
        asm.mov(X86Reg.RCX, count);
        if (dst == X86Reg.RCX) {
            shiftCl(op, SCRATCH2);
            asm.mov(X86Reg.RCX, SCRATCH2);
        } else {
            shiftCl(op, dst);
            asm.mov(X86Reg.RCX, SCRATCH2);
        }
    }

    private void shiftCl(AluOp op, X86Reg dst) {
        if (op == AluOp.SHL) {
            asm.shlCl(dst);
        } else {
            asm.shrCl(dst);
        }
    }

    private void aluImm(AluOp op, X86Reg dst, long imm) {
        switch (op) {
            case ADD, SUB, AND, OR, XOR -> {
                if (X86Assembler.fitsInt32(imm)) {
                    asm.arith(arith(op), dst, (int) imm);
                } else {
                    asm.movImm(SCRATCH, imm);
                    asm.arith(arith(op), dst, SCRATCH);
                }
            }
            case MUL -> {
                asm.movImm(SCRATCH, imm);
                asm.imul(dst, SCRATCH);
            }
            case UDIV, UREM -> divideByConstant(op, dst, imm);
            case SHL, SHR -> {
                int count = (int) (imm & 63);
                if (count != 0) {
                    if (op == AluOp.SHL) {
                        asm.shl(dst, count);
                    } else {
                        asm.shr(dst, count);
                    }
                }
            }
        }
    }

    /**
     * RAX and RDX are both taken by {@code div}, so the constant divisor needs a third register: borrow an IR
     * register other than {@code dst}, saving it on the stack around the division ({@code pop} leaves RAX and
     * RDX, which hold the results, alone).
     */
    private void divideByConstant(AluOp op, X86Reg dst, long imm) {
        X86Reg borrowed = dst == X86Reg.RCX ? X86Reg.RBX : X86Reg.RCX;
        asm.push(borrowed);
        asm.movImm(borrowed, imm);
        asm.mov(SCRATCH, dst);
        asm.xor32(SCRATCH2, SCRATCH2);
        asm.div(borrowed);
        asm.pop(borrowed);
        asm.mov(dst, op == AluOp.UDIV ? SCRATCH : SCRATCH2);
    }

    private static X86Arith arith(AluOp op) {
        return switch (op) {
            case ADD -> X86Arith.ADD;
            case SUB -> X86Arith.SUB;
            case AND -> X86Arith.AND;
            case OR -> X86Arith.OR;
            case XOR -> X86Arith.XOR;
            default -> throw new IllegalArgumentException(op + " is not in the x86 ALU group");
        };
    }

    private void load(Insn.Load l) {
        X86Reg dst = x(l.dst());
        X86Reg base = x(l.base());
        switch (l.w()) {
            case BYTE -> asm.movzx8(dst, base, l.disp());
            case WORD -> asm.movzx16(dst, base, l.disp());
            case DWORD -> asm.load32(dst, base, l.disp());
            case QWORD -> asm.load64(dst, base, l.disp());
        }
    }

    private void store(Insn.Store s) {
        X86Reg base = x(s.base());
        X86Reg src = x(s.src());
        switch (s.w()) {
            case BYTE -> asm.store8(base, s.disp(), src);
            case WORD -> asm.store16(base, s.disp(), src);
            case DWORD -> asm.store32(base, s.disp(), src);
            case QWORD -> asm.store64(base, s.disp(), src);
        }
    }

    /**
     * {@code lidt} needs its operand in memory: build the 10-byte pseudo-descriptor (limit at +6, base at +8,
     * keeping the base 8-byte aligned) in 16 bytes below RSP, load it, and give the stack back.
     */
    private void setIdt(X86Reg base, X86Reg limit) {
        asm.sub(X86Reg.RSP, 16);
        asm.store64(X86Reg.RSP, 8, base);
        asm.mov(SCRATCH, limit);
        asm.store16(X86Reg.RSP, 6, SCRATCH);
        asm.lidt(X86Reg.RSP, 6);
        asm.add(X86Reg.RSP, 16);
    }

    /**
     * {@code lfence; rdtsc; shl rdx, 32; or rax, rdx; mov dst, rax}. RDTSC is not ordered with earlier loads and
     * stores; the LFENCE before it waits for them to complete (Intel SDM vol. 2, RDTSC; AMD's LFENCE is
     * dispatch-serializing too when the kernel enables it, as Linux does), so a timed access ends before the
     * second read. EDX:EAX are the scratch registers, so no IR register is touched but {@code dst}.
     */
    private void readTsc(X86Reg dst) {
        asm.lfence();
        asm.rdtsc();
        asm.shl(SCRATCH2, 32);
        asm.or(SCRATCH, SCRATCH2);
        asm.mov(dst, SCRATCH);
    }

    /** {@code mov eax, site; mov edx, UCALL_PORT; out dx, eax}. */
    private void ucall(int site) {
        asm.movImm32(X86Reg.RAX, site);
        asm.movImm32(X86Reg.RDX, UCALL_PORT);
        asm.outDxEax();
    }

    /** {@code 1: hlt; jmp 1b}: a wake-up (interrupt, or the host resuming after KVM_EXIT_HLT) halts again. */
    private void halt() {
        X86Label again = asm.newLabel();
        asm.bind(again);
        asm.hlt();
        asm.jmp(again);
    }
}
