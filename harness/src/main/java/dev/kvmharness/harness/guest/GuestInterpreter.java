// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import java.util.List;
import java.util.Objects;

/**
 * The reference semantics of the guest IR: runs a {@link GuestProgram} instruction by instruction on a
 * register file and an {@link InterpreterMemory}. This class <em>is</em> the specification the backends are
 * held to; the x86 compiler must agree with it bit for bit (the register values at every ucall, and every
 * byte of memory written), and the real-KVM tests {@code RandomProgramsIT} and {@code CompiledFormsIT} check
 * exactly that. Where {@link Insn}, {@link AluOp}, {@link Cond} or {@link Width} document a rule, this class
 * applies it literally:
 * <ul>
 *   <li>registers are 64-bit; the host presets the argument registers, every other register starts at 0;</li>
 *   <li>arithmetic wraps modulo 2^64, shift counts are taken modulo 64, {@code UDIV}/{@code UREM} are unsigned
 *       and a zero divisor faults ({@link DivideByZeroException}, where x86 takes a #DE);</li>
 *   <li>ordered comparisons are unsigned;</li>
 *   <li>a memory operand is the guest-virtual address {@code base + disp}, {@code disp} sign-extended, wrapping;
 *       loads zero-extend, stores write the low bytes of the source;</li>
 *   <li>{@link Insn.Ucall} hands the site's registers to the host, and execution continues after it;</li>
 *   <li>{@link Insn.Halt} stops for good: resuming a halted program halts again;</li>
 *   <li>{@link Insn.SetIdt} hands base and the low 16 bits of limit to {@link InterpreterMemory#setIdt}.</li>
 *   <li>{@link Insn.ReadTsc} reads the {@link GuestClock}; without one the TSC is the number of instructions
 *       executed before it, over all runs (deterministic, and monotonic as a TSC is).</li>
 * </ul>
 *
 * <p>It behaves like a vCPU: {@link #run} returns at each ucall the way KVM_RUN returns with KVM_EXIT_IO, and
 * the next {@link #run} continues after the ucall. Labels are resolved once, here. One interpreter is one
 * vCPU and is not thread-safe; several may share a program and, if the memory allows it, a memory.
 */
public final class GuestInterpreter {
    private final GuestProgram program;
    private final InterpreterMemory memory;
    private final Insn[] code;
    /**
     * Each instruction decoded once into flat operand arrays, so the run loop reads ints and longs instead of
     * chasing an instruction record and its registers: its opcode (the loop switches on it), up to two register
     * indexes ({@link #ra} the destination, or the one a branch or store reads first; {@link #rb} the source or
     * base), the ordinal of its {@link AluOp}, {@link Cond} or {@link Width}, and its immediate or displacement.
     */
    private final int[] ops;
    private final int[] ra;
    private final int[] rb;
    private final int[] sub;
    private final long[] imm;
    /** For each control transfer, the index to continue at when it is taken (just past the label's Bind). */
    private final int[] targets;
    /** For each ucall site, the indexes of its value registers. */
    private final int[][] siteRegs;
    private final long[] regs = new long[Reg.COUNT];
    /** The TSC for ReadTsc; null: count instructions. */
    private final GuestClock clock;
    private int pc;
    private long steps;

    /**
     * The outcome of one {@link GuestInterpreter#run}.
     *
     * @param kind why the run returned
     * @param siteIndex for a ucall, the index into {@link GuestProgram#ucallSites()}; otherwise -1
     * @param site for a ucall, that site; otherwise null
     * @param values for a ucall, the contents of the site's {@link UcallSite#values()} registers at the call, in
     *     order (a fresh array the caller owns); otherwise empty
     */
    public record Step(Kind kind, int siteIndex, UcallSite site, long[] values) {
        /** Why a {@link GuestInterpreter#run} returned. */
        public enum Kind {
            /** The program made a ucall; {@link Step#site()} says which. */
            UCALL,
            /** The program executed a {@link Insn.Halt}; every further run halts again. */
            HALT,
            /** The step budget ran out; the next run carries on where this one stopped. */
            OUT_OF_STEPS
        }

        private static final long[] NONE = new long[0];
        static final Step HALT = new Step(Kind.HALT, -1, null, NONE);
        static final Step OUT_OF_STEPS = new Step(Kind.OUT_OF_STEPS, -1, null, NONE);

        public boolean isUcall() {
            return kind == Kind.UCALL;
        }

        /** The ucall's kind, or null if this step is not a ucall. */
        public UcallKind ucallKind() {
            return site == null ? null : site.kind();
        }
    }

    /**
     * The guest divided by zero: on x86 a #DE, which the harness's empty IDT turns into a shutdown. The
     * interpreter stays at the faulting instruction, so running it again faults again.
     */
    public static final class DivideByZeroException extends ArithmeticException {
        private static final long serialVersionUID = 1L;
        private final int insnIndex;
        private final transient Insn insn;

        DivideByZeroException(String programName, int insnIndex, Insn insn) {
            super(programName + ": instruction #" + insnIndex + " " + insn + " divides by zero (#DE)");
            this.insnIndex = insnIndex;
            this.insn = insn;
        }

        /** Index of the faulting instruction in {@link GuestProgram#instructions()}. */
        public int insnIndex() {
            return insnIndex;
        }

        public Insn insn() {
            return insn;
        }
    }

    // The run loop's opcodes: a switch on an int stays a jump table, cheaper than a chain of type tests.
    private static final int OP_MOV_IMM = 0;
    private static final int OP_MOV = 1;
    private static final int OP_ALU = 2;
    private static final int OP_ALU_IMM = 3;
    private static final int OP_LOAD = 4;
    private static final int OP_STORE = 5;
    private static final int OP_JUMP = 6;
    private static final int OP_BRANCH = 7;
    private static final int OP_BRANCH_IMM = 8;
    private static final int OP_BIND = 9;
    private static final int OP_UCALL = 10;
    private static final int OP_SET_IDT = 11;
    private static final int OP_READ_TSC = 12;
    private static final int OP_PAUSE = 13;
    private static final int OP_HALT = 14;

    private static final AluOp[] ALU_OPS = AluOp.values();
    private static final Cond[] CONDS = Cond.values();
    private static final Width[] WIDTHS = Width.values();

    /**
     * Decodes one instruction into the operand arrays at {@code at} and returns its opcode. A {@link Insn.Visitor},
     * so an instruction kind the interpreter has no opcode (and so no semantics) for does not compile.
     */
    private final class Decoder implements Insn.Visitor<Integer> {
        private int at;

        int decode(int index, Insn insn) {
            at = index;
            return insn.accept(this);
        }

        private int set(int op, Reg a, Reg b, Enum<?> kind, long value) {
            ra[at] = a == null ? -1 : a.index();
            rb[at] = b == null ? -1 : b.index();
            sub[at] = kind == null ? -1 : kind.ordinal();
            imm[at] = value;
            return op;
        }

        @Override
        public Integer movImm(Insn.MovImm i) {
            return set(OP_MOV_IMM, i.dst(), null, null, i.imm());
        }

        @Override
        public Integer mov(Insn.Mov i) {
            return set(OP_MOV, i.dst(), i.src(), null, 0);
        }

        @Override
        public Integer alu(Insn.Alu i) {
            return set(OP_ALU, i.dst(), i.src(), i.op(), 0);
        }

        @Override
        public Integer aluImm(Insn.AluImm i) {
            return set(OP_ALU_IMM, i.dst(), null, i.op(), i.imm());
        }

        @Override
        public Integer load(Insn.Load i) {
            return set(OP_LOAD, i.dst(), i.base(), i.w(), i.disp());
        }

        @Override
        public Integer store(Insn.Store i) {
            return set(OP_STORE, i.src(), i.base(), i.w(), i.disp());
        }

        @Override
        public Integer jump(Insn.Jump i) {
            return set(OP_JUMP, null, null, null, 0);
        }

        @Override
        public Integer branch(Insn.Branch i) {
            return set(OP_BRANCH, i.a(), i.b(), i.cond(), 0);
        }

        @Override
        public Integer branchImm(Insn.BranchImm i) {
            return set(OP_BRANCH_IMM, i.a(), null, i.cond(), i.imm());
        }

        @Override
        public Integer bind(Insn.Bind i) {
            return set(OP_BIND, null, null, null, 0);
        }

        @Override
        public Integer ucall(Insn.Ucall i) {
            return set(OP_UCALL, null, null, null, i.site());
        }

        @Override
        public Integer setIdt(Insn.SetIdt i) {
            return set(OP_SET_IDT, i.base(), i.limit(), null, 0);
        }

        @Override
        public Integer readTsc(Insn.ReadTsc i) {
            return set(OP_READ_TSC, i.dst(), null, null, 0);
        }

        @Override
        public Integer pause(Insn.Pause i) {
            return set(OP_PAUSE, null, null, null, 0);
        }

        @Override
        public Integer halt(Insn.Halt i) {
            return set(OP_HALT, null, null, null, 0);
        }
    }

    public GuestInterpreter(GuestProgram program, InterpreterMemory memory) {
        this(program, memory, null);
    }

    /** An interpreter whose {@link Insn.ReadTsc} reads {@code clock} (null: the instruction count). */
    public GuestInterpreter(GuestProgram program, InterpreterMemory memory, GuestClock clock) {
        this.clock = clock;
        this.program = Objects.requireNonNull(program, "program");
        this.memory = Objects.requireNonNull(memory, "memory");
        List<Insn> insns = program.instructions();
        code = insns.toArray(new Insn[0]);
        ops = new int[code.length];
        ra = new int[code.length];
        rb = new int[code.length];
        sub = new int[code.length];
        imm = new long[code.length];
        targets = new int[code.length];
        Decoder decoder = new Decoder();
        for (int i = 0; i < code.length; i++) {
            ops[i] = decoder.decode(i, code[i]);
            Label target = GuestProgram.targetOf(code[i]);
            targets[i] = target == null ? -1 : program.bindIndex(target) + 1;
        }
        List<UcallSite> sites = program.ucallSites();
        siteRegs = new int[sites.size()][];
        for (int s = 0; s < siteRegs.length; s++) {
            siteRegs[s] = sites.get(s).values().stream().mapToInt(Reg::index).toArray();
        }
    }

    public GuestProgram program() {
        return program;
    }

    /** vcpu_args_set(): loads {@code r0..r<n-1>}; at most {@link GuestProgram#argCount()} values. */
    public void setArgs(long... args) {
        if (args.length > program.argCount()) {
            throw new IllegalArgumentException("program " + program.name() + " takes " + program.argCount()
                    + " argument(s), got " + args.length);
        }
        System.arraycopy(args, 0, regs, 0, args.length);
    }

    public long reg(Reg r) {
        return regs[r.index()];
    }

    /** Sets a register, as KVM_SET_REGS would between runs. */
    public void setReg(Reg r, long value) {
        regs[r.index()] = value;
    }

    /** A copy of the register file, indexed by {@link Reg#index()}. */
    public long[] registers() {
        return regs.clone();
    }

    /** Index of the next instruction to execute (for a halted program, the {@link Insn.Halt}). */
    public int pc() {
        return pc;
    }

    /** Sets the next instruction, as KVM_SET_REGS sets RIP between runs. */
    public void setPc(int index) {
        if (index < 0 || index >= code.length) {
            throw new IllegalArgumentException("pc " + index + " outside 0.." + (code.length - 1));
        }
        this.pc = index;
    }

    /** Instructions executed so far, over all runs; {@link Insn.Bind} pseudo-instructions are free. */
    public long steps() {
        return steps;
    }

    /**
     * Runs until the program makes a ucall or halts, or {@code maxSteps} instructions have executed. After a
     * fault (an exception from here) {@link #pc()} is the faulting instruction, as RIP is after an x86 fault.
     *
     * @throws DivideByZeroException if the program divides by zero
     * @throws RuntimeException whatever {@link InterpreterMemory} throws for an access it cannot serve
     */
    public Step run(long maxSteps) {
        if (maxSteps <= 0) {
            throw new IllegalArgumentException("maxSteps must be positive, got " + maxSteps);
        }
        final long[] r = regs;
        final int[] ops = this.ops;
        final int[] ra = this.ra;
        final int[] rb = this.rb;
        final int[] sub = this.sub;
        final long[] imm = this.imm;
        int pc = this.pc;
        long left = maxSteps;
        try {
            while (true) {
                int op = ops[pc];
                if (op == OP_BIND) {
                    pc++;
                    continue;
                }
                if (left == 0) {
                    return Step.OUT_OF_STEPS;
                }
                left--;
                switch (op) {
                    case OP_ALU -> {
                        int dst = ra[pc];
                        r[dst] = alu(pc, sub[pc], r[dst], r[rb[pc]]);
                        pc++;
                    }
                    case OP_ALU_IMM -> {
                        int dst = ra[pc];
                        r[dst] = alu(pc, sub[pc], r[dst], imm[pc]);
                        pc++;
                    }
                    case OP_MOV_IMM -> {
                        r[ra[pc]] = imm[pc];
                        pc++;
                    }
                    case OP_MOV -> {
                        r[ra[pc]] = r[rb[pc]];
                        pc++;
                    }
                    case OP_LOAD -> {
                        Width w = WIDTHS[sub[pc]];
                        long gva = r[rb[pc]] + imm[pc];
                        r[ra[pc]] = w.truncate(memory.read(w, gva));
                        pc++;
                    }
                    case OP_STORE -> {
                        Width w = WIDTHS[sub[pc]];
                        long gva = r[rb[pc]] + imm[pc];
                        memory.write(w, gva, w.truncate(r[ra[pc]]));
                        pc++;
                    }
                    case OP_BRANCH -> pc = CONDS[sub[pc]].test(r[ra[pc]], r[rb[pc]]) ? targets[pc] : pc + 1;
                    case OP_BRANCH_IMM -> pc = CONDS[sub[pc]].test(r[ra[pc]], imm[pc]) ? targets[pc] : pc + 1;
                    case OP_JUMP -> pc = targets[pc];
                    case OP_UCALL -> {
                        int site = (int) imm[pc];
                        int[] regIdx = siteRegs[site];
                        long[] values = new long[regIdx.length];
                        for (int i = 0; i < values.length; i++) {
                            values[i] = r[regIdx[i]];
                        }
                        pc++;
                        return new Step(Step.Kind.UCALL, site, program.ucallSites().get(site), values);
                    }
                    case OP_PAUSE -> pc++;
                    case OP_SET_IDT -> {
                        memory.setIdt(r[ra[pc]], (int) (r[rb[pc]] & 0xffff));
                        pc++;
                    }
                    case OP_READ_TSC -> {
                        long before = maxSteps - left - 1;
                        r[ra[pc]] = clock == null ? steps + before : clock.readTsc(before);
                        pc++;
                    }
                    case OP_HALT -> {
                        return Step.HALT;
                    }
                    default -> throw new IllegalStateException("no semantics for opcode " + op + " of " + code[pc]);
                }
            }
        } finally {
            this.pc = pc;
            steps += maxSteps - left;
        }
    }

    private long alu(int at, int aluOp, long a, long b) {
        AluOp op = ALU_OPS[aluOp];
        if (b == 0 && op.divides()) {
            throw new DivideByZeroException(program.name(), at, code[at]);
        }
        return op.apply(a, b);
    }
}
