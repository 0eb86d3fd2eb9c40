// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import java.util.Objects;

/**
 * One instruction of the backend-neutral guest IR. The set is deliberately small and every member has exact
 * semantics, so that the x86 compiler and an interpreter agree bit for bit:
 * registers are 64-bit, arithmetic wraps modulo 2^64, ordered comparisons are unsigned, memory operands are
 * guest-virtual {@code base + sign-extended disp} (wrapping), little-endian, loads zero-extend.
 * Immediates are full 64-bit values; fitting them into an encoding is the compiler's job.
 */
public sealed interface Insn {
    /** Hands this instruction to the visitor's method for its kind. */
    <R> R accept(Visitor<R> v);

    /**
     * One method per instruction kind. Every backend's lowering or interpretation of the IR is a {@code Visitor},
     * so an instruction added here without a method, or a visitor missing one, is a compile error rather than an
     * exception at run time (JDK 17 has no exhaustive pattern switch over a sealed type).
     *
     * @param <R> what the visit produces ({@link Void} for a lowering that only emits)
     */
    interface Visitor<R> {
        R movImm(MovImm i);

        R mov(Mov i);

        R alu(Alu i);

        R aluImm(AluImm i);

        R load(Load i);

        R store(Store i);

        R jump(Jump i);

        R branch(Branch i);

        R branchImm(BranchImm i);

        R bind(Bind i);

        R ucall(Ucall i);

        R setIdt(SetIdt i);

        R readTsc(ReadTsc i);

        R pause(Pause i);

        R halt(Halt i);
    }

    /** {@code dst = imm}. */
    record MovImm(Reg dst, long imm) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.movImm(this);
        }

        public MovImm {
            Objects.requireNonNull(dst, "dst");
        }
    }

    /** {@code dst = src}. */
    record Mov(Reg dst, Reg src) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.mov(this);
        }

        public Mov {
            Objects.requireNonNull(dst, "dst");
            Objects.requireNonNull(src, "src");
        }
    }

    /** {@code dst = dst <op> src}; see {@link AluOp} for division by zero and shift counts. */
    record Alu(AluOp op, Reg dst, Reg src) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.alu(this);
        }

        public Alu {
            Objects.requireNonNull(op, "op");
            Objects.requireNonNull(dst, "dst");
            Objects.requireNonNull(src, "src");
        }
    }

    /** {@code dst = dst <op> imm}. */
    record AluImm(AluOp op, Reg dst, long imm) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.aluImm(this);
        }

        public AluImm {
            Objects.requireNonNull(op, "op");
            Objects.requireNonNull(dst, "dst");
        }
    }

    /** {@code dst = zero-extend(mem[w](base + disp))}. */
    record Load(Width w, Reg dst, Reg base, int disp) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.load(this);
        }

        public Load {
            Objects.requireNonNull(w, "w");
            Objects.requireNonNull(dst, "dst");
            Objects.requireNonNull(base, "base");
        }
    }

    /** {@code mem[w](base + disp) = low w bytes of src}. */
    record Store(Width w, Reg base, int disp, Reg src) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.store(this);
        }

        public Store {
            Objects.requireNonNull(w, "w");
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(src, "src");
        }
    }

    /** Continue at {@code target}. */
    record Jump(Label target) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.jump(this);
        }

        public Jump {
            Objects.requireNonNull(target, "target");
        }
    }

    /** Continue at {@code target} if {@code a <cond> b}, else with the next instruction. */
    record Branch(Cond cond, Reg a, Reg b, Label target) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.branch(this);
        }

        public Branch {
            Objects.requireNonNull(cond, "cond");
            Objects.requireNonNull(a, "a");
            Objects.requireNonNull(b, "b");
            Objects.requireNonNull(target, "target");
        }
    }

    /** Continue at {@code target} if {@code a <cond> imm}, else with the next instruction. */
    record BranchImm(Cond cond, Reg a, long imm, Label target) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.branchImm(this);
        }

        public BranchImm {
            Objects.requireNonNull(cond, "cond");
            Objects.requireNonNull(a, "a");
            Objects.requireNonNull(target, "target");
        }
    }

    /** Pseudo-instruction: marks where {@code label} points. Executes as nothing. */
    record Bind(Label label) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.bind(this);
        }

        public Bind {
            Objects.requireNonNull(label, "label");
        }
    }

    /**
     * Call the host with {@link GuestProgram#ucallSites()}{@code .get(site)}. The host sees the site's registers
     * as they are at this point; the guest continues with the next instruction when the host resumes it.
     */
    record Ucall(int site) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.ucall(this);
        }
    }

    /**
     * {@code lidt}: the vCPU's IDT register becomes {@code base} (a guest-virtual address) with the low 16 bits
     * of {@code limit}. Guest programs have no exception handlers, so an IDT only decides how a guest
     * exception ends the run (a shutdown, or KVM failing to deliver it).
     */
    record SetIdt(Reg base, Reg limit) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.setIdt(this);
        }

        public SetIdt {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(limit, "limit");
        }
    }

    /**
     * {@code dst = TSC}: the guest's time-stamp counter, read after every earlier instruction has completed
     * (x86: {@code lfence; rdtsc}). Its unit is the backend's TSC tick ({@code Vm.tscKhz()}); the interpreter takes
     * it from its {@link GuestClock}. Used to time accesses from inside the guest.
     */
    record ReadTsc(Reg dst) implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.readTsc(this);
        }

        public ReadTsc {
            Objects.requireNonNull(dst, "dst");
        }
    }

    /** Spin-loop hint; changes no guest state. */
    record Pause() implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.pause(this);
        }
    }

    /** Stop this vCPU for good: it never executes another instruction, however often the host resumes it. */
    record Halt() implements Insn {
        @Override
        public <R> R accept(Visitor<R> v) {
            return v.halt(this);
        }
    }
}
