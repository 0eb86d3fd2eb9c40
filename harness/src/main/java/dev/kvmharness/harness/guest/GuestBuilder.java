// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Writes a {@link GuestProgram} in straight Java: one method per IR instruction plus structured control flow
 * ({@link #loop}, {@link #whileTrue}, {@link #ifTrue}, {@link #ifElse}) and the selftest ucalls
 * ({@link #sync}, {@link #done}, {@link #guestAssert}, {@link #fail}, {@link #printf}). Obtain one through
 * {@link GuestProgram#define}; it is dead once the program is built.
 *
 * <p>Registers: {@link #arg(int)} names an argument register (the host loads it before the first run),
 * {@link #temp()} hands out a register that starts at 0. Temps come from {@code r6..r12} first and then, if a
 * program needs more, from the argument registers above the highest one declared; declaring an argument
 * whose register already became a temp is an error, so declare arguments first.
 */
public final class GuestBuilder {
    private final List<Insn> insns = new ArrayList<>();
    private final List<UcallSite> sites = new ArrayList<>();
    private final boolean[] temps = new boolean[Reg.COUNT];
    private int argCount;
    private int lowestArgTemp = Reg.ARG_COUNT;
    private int labels;
    private boolean built;

    GuestBuilder() {
    }

    GuestProgram build(String name) {
        live();
        built = true;
        return GuestProgram.of(name, argCount, insns, sites);
    }

    private void live() {
        if (built) {
            throw new IllegalStateException("guest builder used after its program was built");
        }
    }

    private void emit(Insn insn) {
        live();
        insns.add(insn);
    }

    // ---- registers ----

    /** Argument register {@code i} (0..5), loaded by the host before the first run (vcpu_args_set()). */
    public Reg arg(int i) {
        live();
        if (i < 0 || i >= Reg.ARG_COUNT) {
            throw new IllegalArgumentException("argument index " + i + " outside 0.." + (Reg.ARG_COUNT - 1));
        }
        if (i >= lowestArgTemp) {
            throw new IllegalStateException("arg(" + i + "): r" + i + " is already in use as a temp; declare arguments"
                    + " before allocating temps");
        }
        argCount = Math.max(argCount, i + 1);
        return Reg.of(i);
    }

    /** A fresh register, initially 0. */
    public Reg temp() {
        live();
        for (int i = Reg.ARG_COUNT; i < Reg.COUNT; i++) {
            if (!temps[i]) {
                temps[i] = true;
                return Reg.of(i);
            }
        }
        int i = lowestArgTemp - 1;
        if (i < argCount) {
            throw new IllegalStateException("out of guest registers: " + Reg.COUNT + " in all, " + argCount
                    + " declared as arguments, the rest already temps");
        }
        lowestArgTemp = i;
        temps[i] = true;
        return Reg.of(i);
    }

    // ---- data movement and arithmetic ----

    public void mov(Reg dst, long imm) {
        emit(new Insn.MovImm(dst, imm));
    }

    public void mov(Reg dst, Reg src) {
        emit(new Insn.Mov(dst, src));
    }

    public void alu(AluOp op, Reg dst, Reg src) {
        emit(new Insn.Alu(op, dst, src));
    }

    public void alu(AluOp op, Reg dst, long imm) {
        if (op.divides() && imm == 0) {
            throw new IllegalArgumentException(op + " " + dst + " by literal 0");
        }
        emit(new Insn.AluImm(op, dst, imm));
    }

    public void add(Reg dst, Reg src) {
        alu(AluOp.ADD, dst, src);
    }

    public void add(Reg dst, long imm) {
        alu(AluOp.ADD, dst, imm);
    }

    public void sub(Reg dst, Reg src) {
        alu(AluOp.SUB, dst, src);
    }

    public void sub(Reg dst, long imm) {
        alu(AluOp.SUB, dst, imm);
    }

    /** Low 64 bits of the product (the same for signed and unsigned operands). */
    public void mul(Reg dst, Reg src) {
        alu(AluOp.MUL, dst, src);
    }

    public void mul(Reg dst, long imm) {
        alu(AluOp.MUL, dst, imm);
    }

    /** Unsigned division; a zero in {@code src} makes the guest fault, which no builder check can catch. */
    public void udiv(Reg dst, Reg src) {
        alu(AluOp.UDIV, dst, src);
    }

    public void udiv(Reg dst, long imm) {
        alu(AluOp.UDIV, dst, imm);
    }

    /** Unsigned remainder; a zero in {@code src} makes the guest fault, which no builder check can catch. */
    public void urem(Reg dst, Reg src) {
        alu(AluOp.UREM, dst, src);
    }

    public void urem(Reg dst, long imm) {
        alu(AluOp.UREM, dst, imm);
    }

    public void and(Reg dst, Reg src) {
        alu(AluOp.AND, dst, src);
    }

    public void and(Reg dst, long imm) {
        alu(AluOp.AND, dst, imm);
    }

    public void or(Reg dst, Reg src) {
        alu(AluOp.OR, dst, src);
    }

    public void or(Reg dst, long imm) {
        alu(AluOp.OR, dst, imm);
    }

    public void xor(Reg dst, Reg src) {
        alu(AluOp.XOR, dst, src);
    }

    public void xor(Reg dst, long imm) {
        alu(AluOp.XOR, dst, imm);
    }

    /** Shift left by {@code src mod 64}. */
    public void shl(Reg dst, Reg src) {
        alu(AluOp.SHL, dst, src);
    }

    public void shl(Reg dst, long imm) {
        alu(AluOp.SHL, dst, imm);
    }

    /** Logical shift right by {@code src mod 64}. */
    public void shr(Reg dst, Reg src) {
        alu(AluOp.SHR, dst, src);
    }

    public void shr(Reg dst, long imm) {
        alu(AluOp.SHR, dst, imm);
    }

    // ---- memory ----

    public void load(Width w, Reg dst, Reg base, int disp) {
        emit(new Insn.Load(w, dst, base, disp));
    }

    public void store(Width w, Reg base, int disp, Reg src) {
        emit(new Insn.Store(w, base, disp, src));
    }

    public void load8(Reg dst, Reg base, int disp) {
        load(Width.BYTE, dst, base, disp);
    }

    public void load16(Reg dst, Reg base, int disp) {
        load(Width.WORD, dst, base, disp);
    }

    public void load32(Reg dst, Reg base, int disp) {
        load(Width.DWORD, dst, base, disp);
    }

    public void load64(Reg dst, Reg base, int disp) {
        load(Width.QWORD, dst, base, disp);
    }

    public void store8(Reg base, int disp, Reg src) {
        store(Width.BYTE, base, disp, src);
    }

    public void store16(Reg base, int disp, Reg src) {
        store(Width.WORD, base, disp, src);
    }

    public void store32(Reg base, int disp, Reg src) {
        store(Width.DWORD, base, disp, src);
    }

    public void store64(Reg base, int disp, Reg src) {
        store(Width.QWORD, base, disp, src);
    }

    // ---- control flow ----

    /** A new label of this program; place it with {@link #bind}. */
    public Label label() {
        live();
        return new Label(labels++);
    }

    public void bind(Label label) {
        emit(new Insn.Bind(label));
    }

    public void jump(Label target) {
        emit(new Insn.Jump(target));
    }

    public void branch(Cond cond, Reg a, Reg b, Label target) {
        emit(new Insn.Branch(cond, a, b, target));
    }

    public void branch(Cond cond, Reg a, long b, Label target) {
        emit(new Insn.BranchImm(cond, a, b, target));
    }

    /** {@code for (;;) body}. */
    public void loop(Runnable body) {
        Label top = label();
        bind(top);
        body.run();
        jump(top);
    }

    /** {@code while (a <cond> b) body}; the condition is evaluated before every iteration. */
    public void whileTrue(Cond cond, Reg a, Reg b, Runnable body) {
        Label top = label();
        Label exit = label();
        bind(top);
        branch(cond.negate(), a, b, exit);
        body.run();
        jump(top);
        bind(exit);
    }

    public void whileTrue(Cond cond, Reg a, long b, Runnable body) {
        Label top = label();
        Label exit = label();
        bind(top);
        branch(cond.negate(), a, b, exit);
        body.run();
        jump(top);
        bind(exit);
    }

    /** {@code if (a <cond> b) body}. */
    public void ifTrue(Cond cond, Reg a, Reg b, Runnable body) {
        Label skip = label();
        branch(cond.negate(), a, b, skip);
        body.run();
        bind(skip);
    }

    public void ifTrue(Cond cond, Reg a, long b, Runnable body) {
        Label skip = label();
        branch(cond.negate(), a, b, skip);
        body.run();
        bind(skip);
    }

    /** {@code if (a <cond> b) then else otherwise}. */
    public void ifElse(Cond cond, Reg a, Reg b, Runnable then, Runnable otherwise) {
        Label elseLabel = label();
        branch(cond.negate(), a, b, elseLabel);
        ifElseTail(elseLabel, then, otherwise);
    }

    public void ifElse(Cond cond, Reg a, long b, Runnable then, Runnable otherwise) {
        Label elseLabel = label();
        branch(cond.negate(), a, b, elseLabel);
        ifElseTail(elseLabel, then, otherwise);
    }

    private void ifElseTail(Label elseLabel, Runnable then, Runnable otherwise) {
        Label end = label();
        then.run();
        jump(end);
        bind(elseLabel);
        otherwise.run();
        bind(end);
    }

    public void pause() {
        emit(new Insn.Pause());
    }

    /** {@code lidt}: the IDT at guest-virtual {@code base}, {@code limit} (low 16 bits) bytes long minus one. */
    public void setIdt(Reg base, Reg limit) {
        emit(new Insn.SetIdt(base, limit));
    }

    /** {@code dst = TSC} once every earlier instruction has completed ({@link Insn.ReadTsc}). */
    public void readTsc(Reg dst) {
        emit(new Insn.ReadTsc(dst));
    }

    /** Stops the vCPU for good. */
    public void halt() {
        emit(new Insn.Halt());
    }

    // ---- ucalls ----

    /** Emits a call to the host with {@code site} appended to the program's ucall table. */
    public void ucall(UcallSite site) {
        Objects.requireNonNull(site, "site");
        live();
        sites.add(site);
        emit(new Insn.Ucall(sites.size() - 1));
    }

    /** GUEST_SYNC(stage) with a constant stage. */
    public void sync(long stage) {
        ucall(UcallSite.sync(stage));
    }

    /** GUEST_SYNC(stage) with the stage in a register. */
    public void sync(Reg stage) {
        ucall(UcallSite.sync(stage));
    }

    /** GUEST_DONE(). The guest continues after it if the host resumes it. */
    public void done() {
        ucall(UcallSite.done());
    }

    /** GUEST_PRINTF: the host renders {@code format} with the registers' values and resumes the guest. */
    public void printf(String format, Reg... values) {
        ucall(UcallSite.printf(format, List.of(values)));
    }

    /**
     * GUEST_ASSERT: unless {@code a <cond> b}, abort with a message naming the expression, both operand values,
     * the Java source line and then {@code format} rendered with {@code values}. An aborted vCPU halts: it
     * does not go on as if the assertion had held.
     */
    public void guestAssert(Cond cond, Reg a, Reg b, String format, Reg... values) {
        Label ok = label();
        branch(cond, a, b, ok);
        List<Reg> all = new ArrayList<>(List.of(a, b));
        all.addAll(Arrays.asList(values));
        abort(a + " " + cond + " " + b + " (" + a + " = 0x%lx, " + b + " = 0x%lx)", format, all);
        bind(ok);
    }

    public void guestAssert(Cond cond, Reg a, long b, String format, Reg... values) {
        Label ok = label();
        branch(cond, a, b, ok);
        List<Reg> all = new ArrayList<>(List.of(a));
        all.addAll(Arrays.asList(values));
        abort(a + " " + cond + " 0x" + Long.toHexString(b) + " (" + a + " = 0x%lx)", format, all);
        bind(ok);
    }

    /** GUEST_FAIL: abort unconditionally with {@code format} rendered with {@code values}, then halt. */
    public void fail(String format, Reg... values) {
        abort("false", format, List.of(values));
    }

    private void abort(String expression, String format, List<Reg> values) {
        Objects.requireNonNull(format, "format");
        String head = "Failed guest assert: " + expression + " at " + callerLocation();
        ucall(UcallSite.abort(format.isEmpty() ? head : head + "\n  " + format, values));
        halt();
    }

    /** {@code File.java:line} of the code that called into the builder, like the C macros' __FILE__:__LINE__. */
    private static String callerLocation() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().equals(GuestBuilder.class.getName()))
                .findFirst()
                .map(f -> (f.getFileName() != null ? f.getFileName() : f.getClassName()) + ":" + f.getLineNumber())
                .orElse("?"))
                .replace("%", "%%");
    }
}
