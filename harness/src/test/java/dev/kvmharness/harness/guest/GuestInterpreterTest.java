// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.guest.GuestInterpreter.Step;
import dev.kvmharness.harness.memstress.MemstressGuest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The reference interpreter on hand-written programs whose results are known independently. */
class GuestInterpreterTest {
    private static final long BUDGET = 10_000_000;

    /** Sparse little-endian byte memory; unwritten bytes read as zero. Records every write. */
    static final class MapMemory implements InterpreterMemory {
        final Map<Long, Byte> bytes = new HashMap<>();
        final Map<Long, Long> writes = new TreeMap<>(Long::compareUnsigned);
        int reads;

        @Override
        public long read(Width w, long gva) {
            reads++;
            long v = 0;
            for (int i = 0; i < w.bytes(); i++) {
                v |= (bytes.getOrDefault(gva + i, (byte) 0) & 0xffL) << (8 * i);
            }
            return v;
        }

        @Override
        public void write(Width w, long gva, long value) {
            writes.put(gva, value);
            for (int i = 0; i < w.bytes(); i++) {
                bytes.put(gva + i, (byte) (value >>> (8 * i)));
            }
        }

        void put64(long gva, long value) {
            for (int i = 0; i < 8; i++) {
                bytes.put(gva + i, (byte) (value >>> (8 * i)));
            }
        }
    }

    private static Step run(GuestInterpreter in) {
        return in.run(BUDGET);
    }

    /** Runs one program with the given arguments to its first ucall and returns that ucall's values. */
    private static long[] firstUcall(GuestProgram p, long... args) {
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        in.setArgs(args);
        Step s = run(in);
        assertThat(s.kind()).isEqualTo(Step.Kind.UCALL);
        return s.values();
    }

    @Test
    void setIdtHandsBaseAndTheLow16BitsOfTheLimitToTheVcpu() {
        GuestProgram p = GuestProgram.define("lidt", g -> {
            Reg base = g.temp();
            Reg limit = g.temp();
            g.mov(base, 0xc000_0000L);
            g.mov(limit, 0x1_0fffL);
            g.setIdt(base, limit);
            g.sync(1);
        });
        long[] idt = {-1, -1};
        InterpreterMemory m = new InterpreterMemory() {
            @Override
            public long read(Width w, long gva) {
                throw new AssertionError("no memory access expected");
            }

            @Override
            public void write(Width w, long gva, long value) {
                throw new AssertionError("no memory access expected");
            }

            @Override
            public void setIdt(long base, int lim) {
                idt[0] = base;
                idt[1] = lim;
            }
        };
        Step s = new GuestInterpreter(p, m).run(100);
        assertThat(s.isUcall()).isTrue();
        assertThat(idt).containsExactly(0xc000_0000L, 0x0fffL);
        // A memory without a vCPU has no IDT register to load.
        assertThatThrownBy(() -> new GuestInterpreter(p, InterpreterMemory.flat(0, new byte[8])).run(100))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("lidt");
    }

    @Test
    void aCountingLoopSumsThenSyncsAndIsDone() {
        GuestProgram p = GuestProgram.define("sum", g -> {
            Reg n = g.arg(0);
            Reg i = g.temp();
            Reg sum = g.temp();
            g.mov(i, 1);
            g.whileTrue(Cond.ULE, i, n, () -> {
                g.add(sum, i);
                g.add(i, 1);
            });
            g.sync(sum);
            g.sync(7);
            g.done();
        });
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        in.setArgs(100);
        Step s = run(in);
        assertThat(s.ucallKind()).isEqualTo(UcallKind.SYNC);
        assertThat(s.site().stage(s.values())).isEqualTo(5050);
        s = run(in);
        assertThat(s.site().stage(s.values())).isEqualTo(7);
        assertThat(run(in).ucallKind()).isEqualTo(UcallKind.DONE);
        assertThat(run(in).kind()).isEqualTo(Step.Kind.HALT);
        // 1 setup + 100 iterations of (branch, add, add, jump) + the exiting branch + 3 ucalls + halt.
        assertThat(in.steps()).isEqualTo(1 + 100 * 4 + 1 + 3 + 1);
    }

    @Test
    void everyAluOpInRegisterAndImmediateFormMatchesTheDocumentedResults() {
        long a = 0xFEDC_BA98_7654_3210L;
        Object[][] cases = {
            {AluOp.ADD, -1L, 1L, 0L},
            {AluOp.ADD, a, 0x0123_4567_89AB_CDEFL, 0xFFFF_FFFF_FFFF_FFFFL},
            {AluOp.SUB, 0L, 1L, -1L},
            {AluOp.MUL, 0x1_0000_0001L, 0x1_0000_0001L, 0x2_0000_0001L},
            {AluOp.MUL, -1L, -1L, 1L},
            {AluOp.UDIV, -1L, 2L, Long.MAX_VALUE},
            {AluOp.UDIV, a, 0x10L, 0x0FED_CBA9_8765_4321L},
            {AluOp.UREM, -1L, 10L, 5L},
            {AluOp.UREM, a, 0x10L, 0L},
            {AluOp.AND, 0xf0L, 0x3cL, 0x30L},
            {AluOp.OR, 0xf0L, 0x0fL, 0xffL},
            {AluOp.XOR, 0xffL, 0x0fL, 0xf0L},
            {AluOp.XOR, a, a, 0L},
            {AluOp.SHL, 1L, 63L, Long.MIN_VALUE},
            {AluOp.SHL, 1L, 64L, 1L},
            {AluOp.SHL, 1L, 65L, 2L},
            {AluOp.SHL, 3L, -1L, Long.MIN_VALUE},
            {AluOp.SHR, -1L, 63L, 1L},
            {AluOp.SHR, -1L, 64L, -1L},
            {AluOp.SHR, Long.MIN_VALUE, 0x1_0000_0004L, 0x0800_0000_0000_0000L},
        };
        for (Object[] c : cases) {
            AluOp op = (AluOp) c[0];
            long x = (Long) c[1];
            long y = (Long) c[2];
            long expected = (Long) c[3];
            GuestProgram p = GuestProgram.define("alu", g -> {
                Reg dst = g.arg(0);
                Reg src = g.arg(1);
                Reg viaImm = g.temp();
                g.mov(viaImm, dst);
                g.alu(op, dst, src);
                g.alu(op, viaImm, y);
                g.printf("%lx %lx %lx", dst, src, viaImm);
            });
            assertThat(firstUcall(p, x, y)).as("%s 0x%x, 0x%x", op, x, y).containsExactly(expected, y, expected);
        }
    }

    @Test
    void anAluOpWithItselfAsSourceUsesTheOldValue() {
        GuestProgram p = GuestProgram.define("self", g -> {
            Reg x = g.arg(0);
            Reg[] r = {g.temp(), g.temp(), g.temp(), g.temp(), g.temp()};
            AluOp[] ops = {AluOp.ADD, AluOp.SUB, AluOp.UDIV, AluOp.SHL, AluOp.MUL};
            for (int i = 0; i < r.length; i++) {
                g.mov(r[i], x);
                g.alu(ops[i], r[i], r[i]);
            }
            g.printf("%lx %lx %lx %lx %lx", r);
        });
        assertThat(firstUcall(p, 0x41)).containsExactly(0x82L, 0L, 1L, 0x41L << 1, 0x41L * 0x41L);
    }

    @Test
    void movesCopyAndLoadFullImmediates() {
        GuestProgram p = GuestProgram.define("mov", g -> {
            Reg a = g.temp();
            Reg b = g.temp();
            Reg c = g.temp();
            g.mov(a, 0x8000_0000_0000_0001L);
            g.mov(b, -2);
            g.mov(c, a);
            g.mov(a, 0xffff_ffffL);
            g.printf("%lx %lx %lx", a, b, c);
        });
        assertThat(firstUcall(p)).containsExactly(0xffff_ffffL, -2L, 0x8000_0000_0000_0001L);
    }

    @Test
    void loadsZeroExtendAndStoresWriteOnlyTheLowBytesLittleEndian() {
        long v = 0x8877_6655_4433_2211L;
        GuestProgram p = GuestProgram.define("memory", g -> {
            Reg base = g.arg(0);
            Reg val = g.arg(1);
            g.store64(base, 0, val);
            g.store32(base, 16, val);
            g.store16(base, 32, val);
            g.store8(base, 48, val);
            g.store64(base, 67, val); // unaligned
            Reg[] r = {g.temp(), g.temp(), g.temp(), g.temp(), g.temp(), g.temp()};
            g.load8(r[0], base, 7);
            g.load16(r[1], base, 6);
            g.load32(r[2], base, 4);
            g.load64(r[3], base, 16);
            g.load64(r[4], base, 64);
            g.mov(r[5], base);
            g.add(r[5], 100);
            g.load32(r[5], r[5], -100); // base + negative displacement; destination == base
            g.printf("%lx %lx %lx %lx %lx %lx", r);
        });
        byte[] page = new byte[4096];
        page[75] = (byte) 0xAA; // just past the unaligned qword stored at 67
        GuestInterpreter in = new GuestInterpreter(p, InterpreterMemory.flat(0x7000, page));
        in.setArgs(0x7000, v);
        Step s = run(in);
        assertThat(s.values()).containsExactly(0x88L, 0x8877L, 0x8877_6655L, 0x4433_2211L, 0x5544_3322_1100_0000L,
                0x4433_2211L);
        assertThat(page[48]).isEqualTo((byte) 0x11);
        assertThat(page[49]).isZero();
        assertThat(page[20]).isZero();
        assertThat(page[34]).isZero();
        assertThat(page[74]).isEqualTo((byte) 0x88);
        assertThat(page[75]).isEqualTo((byte) 0xAA);
    }

    @Test
    void addressesWrapModulo2To64() {
        GuestProgram p = GuestProgram.define("wrap", g -> {
            Reg base = g.arg(0);
            Reg val = g.arg(1);
            g.store16(base, 0x20, val);
            Reg r = g.temp();
            g.load16(r, base, 0x20);
            g.printf("%lx", r);
        });
        MapMemory mem = new MapMemory();
        GuestInterpreter in = new GuestInterpreter(p, mem);
        in.setArgs(-0x10, 0xBEEF);
        assertThat(run(in).values()).containsExactly(0xBEEFL);
        assertThat(mem.writes).containsExactly(Map.entry(0x10L, 0xBEEFL));
    }

    @Test
    void storesHandTheMemoryTheTruncatedValueAndLoadsZeroExtendWhatItReturns() {
        InterpreterMemory sloppy = new InterpreterMemory() {
            @Override
            public long read(Width w, long gva) {
                return -1; // more bytes than asked for
            }

            @Override
            public void write(Width w, long gva, long value) {
                assertThat(value).isEqualTo(w.truncate(value));
            }
        };
        GuestProgram p = GuestProgram.define("sloppy", g -> {
            Reg base = g.temp();
            Reg v = g.temp();
            g.mov(v, -1);
            for (Width w : Width.values()) {
                g.store(w, base, 0, v);
            }
            Reg[] r = {g.temp(), g.temp(), g.temp(), g.temp()};
            for (Width w : Width.values()) {
                g.load(w, r[w.ordinal()], base, 0);
            }
            g.printf("%lx %lx %lx %lx", r);
        });
        Step s = new GuestInterpreter(p, sloppy).run(BUDGET);
        assertThat(s.values()).containsExactly(0xffL, 0xffffL, 0xffff_ffffL, -1L);
    }

    @Test
    void branchesTestEveryConditionUnsignedInBothForms() {
        Cond[] conds = Cond.values();
        GuestProgram p = GuestProgram.define("conds", g -> {
            Reg a = g.arg(0);
            Reg b = g.arg(1);
            Reg bits = g.temp();
            for (int i = 0; i < conds.length; i++) {
                int bit = i;
                Label skip = g.label();
                g.branch(conds[i].negate(), a, b, skip);
                g.or(bits, 1L << bit);
                g.bind(skip);
            }
            g.sync(bits);
            g.mov(bits, 0);
            for (int i = 0; i < conds.length; i++) {
                int bit = i;
                g.ifTrue(conds[i], a, -1, () -> g.or(bits, 1L << bit));
            }
            g.sync(bits);
        });
        // Bits from the lowest: EQ NE ULT ULE UGT UGE.
        assertThat(bitsFor(p, 0, 0)).containsExactly(0b101001L, 0b001110L);
        assertThat(bitsFor(p, 1, -1)).containsExactly(0b001110L, 0b001110L);
        assertThat(bitsFor(p, -1, 1)).containsExactly(0b110010L, 0b101001L);
        assertThat(bitsFor(p, Long.MIN_VALUE, Long.MAX_VALUE)).containsExactly(0b110010L, 0b001110L);
        assertThat(bitsFor(p, -1, -1)).containsExactly(0b101001L, 0b101001L);
    }

    private static long[] bitsFor(GuestProgram p, long a, long b) {
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        in.setArgs(a, b);
        long first = run(in).values()[0];
        long second = run(in).values()[0];
        return new long[] {first, second};
    }

    @Test
    void jumpsSkipCodeAndLabelsMayBindAtTheVeryEnd() {
        GuestProgram p = GuestProgram.define("jumps", g -> {
            Reg x = g.temp();
            Label over = g.label();
            Label end = g.label();
            g.jump(over);
            g.mov(x, 1);
            g.sync(x);
            g.bind(over);
            g.sync(2);
            g.jump(end);
            g.sync(3);
            g.bind(end);
        });
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        Step s = run(in);
        assertThat(s.site().stage(s.values())).isEqualTo(2);
        assertThat(run(in).kind()).isEqualTo(Step.Kind.HALT);
    }

    @Test
    void ucallsReportTheirSiteAndTheRegistersAtTheCallAndResumeAfterIt() {
        GuestProgram p = GuestProgram.define("ucalls", g -> {
            Reg a = g.arg(0);
            Reg b = g.temp();
            g.mov(b, 0x77);
            g.printf("a=%lu b=%lx", a, b);
            g.add(a, 1);
            g.printf("a=%lu b=%lx", b, a);
            g.done();
        });
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        in.setArgs(41);
        Step first = run(in);
        assertThat(first.siteIndex()).isZero();
        assertThat(first.ucallKind()).isEqualTo(UcallKind.PRINTF);
        assertThat(first.site().render(first.values())).isEqualTo("a=41 b=77");
        Step second = run(in);
        assertThat(second.siteIndex()).isEqualTo(1);
        assertThat(second.values()).containsExactly(0x77L, 42L);
        assertThat(first.values()).as("earlier values are a snapshot").containsExactly(41L, 0x77L);
        assertThat(run(in).ucallKind()).isEqualTo(UcallKind.DONE);
        assertThat(in.reg(Reg.of(0))).isEqualTo(42);
    }

    @Test
    void aHaltedProgramStaysHaltedHoweverOftenItIsResumed() {
        GuestProgram p = GuestProgram.define("halt", g -> {
            g.sync(1);
            g.halt();
            g.sync(2);
        });
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        assertThat(run(in).kind()).isEqualTo(Step.Kind.UCALL);
        for (int i = 0; i < 3; i++) {
            assertThat(run(in).kind()).isEqualTo(Step.Kind.HALT);
            assertThat(in.pc()).isEqualTo(1);
        }
    }

    @Test
    void aFailedGuestAssertAbortsWithItsValuesAndThenHalts() {
        GuestProgram p = GuestProgram.define("assert", g -> {
            Reg x = g.arg(0);
            g.guestAssert(Cond.ULT, x, 10, "x = %lu is too big", x);
            g.done();
        });
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        in.setArgs(12);
        Step s = run(in);
        assertThat(s.ucallKind()).isEqualTo(UcallKind.ABORT);
        assertThat(s.site().render(s.values())).contains("x = 12 is too big");
        assertThat(run(in).kind()).isEqualTo(Step.Kind.HALT);
        assertThat(run(in).kind()).isEqualTo(Step.Kind.HALT);
    }

    @Test
    void dividingByZeroInARegisterFaultsAtTheDivisionAndFaultsAgainWhenRerun() {
        for (AluOp op : List.of(AluOp.UDIV, AluOp.UREM)) {
            GuestProgram p = GuestProgram.define("div0", g -> {
                Reg x = g.arg(0);
                Reg y = g.arg(1);
                g.sync(1);
                g.alu(op, x, y);
                g.sync(2);
            });
            GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
            in.setArgs(5, 0);
            assertThat(run(in).kind()).isEqualTo(Step.Kind.UCALL);
            for (int i = 0; i < 2; i++) {
                assertThatThrownBy(() -> run(in)).isInstanceOfSatisfying(GuestInterpreter.DivideByZeroException.class,
                        e -> {
                            assertThat(e.insnIndex()).isEqualTo(1);
                            assertThat(e.insn()).isEqualTo(new Insn.Alu(op, Reg.of(0), Reg.of(1)));
                        }).hasMessageContaining("div0: instruction #1").isInstanceOf(ArithmeticException.class);
                assertThat(in.pc()).isEqualTo(1);
                assertThat(in.reg(Reg.of(0))).as("the dividend is untouched").isEqualTo(5);
            }
        }
    }

    @Test
    void theStepBudgetStopsARunWhichTheNextRunContinues() {
        GuestProgram p = GuestProgram.define("budget", g -> {
            Reg i = g.temp();
            g.whileTrue(Cond.ULT, i, 1000, () -> g.add(i, 1));
            g.sync(i);
        });
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        assertThat(in.run(100).kind()).isEqualTo(Step.Kind.OUT_OF_STEPS);
        assertThat(in.steps()).isEqualTo(100);
        int runs = 1;
        Step s = in.run(7);
        while (s.kind() == Step.Kind.OUT_OF_STEPS) {
            runs++;
            s = in.run(7);
        }
        assertThat(s.values()).containsExactly(1000L);
        assertThat(in.steps()).isEqualTo(1000 * 3 + 1 + 1);
        assertThat(runs).isGreaterThan(400);
        assertThatThrownBy(() -> in.run(0)).isInstanceOf(IllegalArgumentException.class);

        GuestInterpreter spin = new GuestInterpreter(GuestProgram.define("spin", g -> g.loop(g::pause)), new MapMemory());
        assertThat(spin.run(1_000_000).kind()).isEqualTo(Step.Kind.OUT_OF_STEPS);
        assertThat(spin.steps()).isEqualTo(1_000_000);
    }

    @Test
    void argumentsAreLimitedToTheProgramsDeclaredOnesAndEverythingElseStartsAtZero() {
        GuestProgram p = GuestProgram.define("args", g -> {
            Reg a = g.arg(0);
            Reg b = g.arg(1);
            g.printf("%lx %lx", a, b);
        });
        GuestInterpreter in = new GuestInterpreter(p, new MapMemory());
        assertThatThrownBy(() -> in.setArgs(1, 2, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("takes 2 argument(s), got 3");
        in.setArgs(9);
        assertThat(in.registers()).containsExactly(9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        in.setReg(Reg.of(1), 8);
        assertThat(run(in).values()).containsExactly(9L, 8L);
    }

    @Test
    void flatMemoryRejectsAccessesOutsideItsRange() {
        InterpreterMemory m = InterpreterMemory.flat(0x1000, new byte[16]);
        m.write(Width.QWORD, 0x1008, 0x0102_0304_0506_0708L);
        assertThat(m.read(Width.WORD, 0x100E)).isEqualTo(0x0102);
        assertThat(m.read(Width.BYTE, 0x1008)).isEqualTo(0x08);
        assertThatThrownBy(() -> m.read(Width.QWORD, 0x1009)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gva 0x1009");
        assertThatThrownBy(() -> m.write(Width.BYTE, 0xFFF, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InterpreterMemory.flat(0, new byte[2]).read(Width.DWORD, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---- the memstress guest ----

    /** struct memstress_args as MemstressArgs lays it out (package-private there). */
    private static final long ARGS_GVA = 0x1000;
    private static final int OFF_GUEST_PAGE_SIZE = 0;
    private static final int OFF_WRITE_PERCENT = 8;
    private static final int OFF_RANDOM_ACCESS = 16;
    private static final int OFF_RANDOM_SEED = 24;
    private static final int OFF_SIZE = 32;
    private static final int OFF_VCPU_ARGS = 64;
    private static final int VCPU_OFF_GVA = 0;
    private static final int VCPU_OFF_PAGES = 8;
    private static final int VCPU_OFF_IDX = 16;
    private static final long DATA_GVA = 0x10_0000_0000L;
    private static final int PAGES = 8;

    private static MapMemory memstressMemory(long writePercent, long vcpuIdxInArgs) {
        MapMemory mem = new MapMemory();
        mem.put64(ARGS_GVA + OFF_GUEST_PAGE_SIZE, 4096);
        mem.put64(ARGS_GVA + OFF_WRITE_PERCENT, writePercent);
        mem.put64(ARGS_GVA + OFF_RANDOM_ACCESS, 0);
        mem.put64(ARGS_GVA + OFF_RANDOM_SEED, 1);
        mem.put64(ARGS_GVA + OFF_SIZE, OFF_VCPU_ARGS + 32);
        mem.put64(ARGS_GVA + OFF_VCPU_ARGS + VCPU_OFF_GVA, DATA_GVA);
        mem.put64(ARGS_GVA + OFF_VCPU_ARGS + VCPU_OFF_PAGES, PAGES);
        mem.put64(ARGS_GVA + OFF_VCPU_ARGS + VCPU_OFF_IDX, vcpuIdxInArgs);
        return mem;
    }

    @Test
    void theMemstressGuestWritesThePatternToEveryPageThenSyncsStageOneEveryPass() {
        MapMemory mem = memstressMemory(100, 0);
        GuestInterpreter in = new GuestInterpreter(MemstressGuest.PROGRAM, mem);
        in.setArgs(ARGS_GVA, 0);
        for (int pass = 0; pass < 3; pass++) {
            Step s = run(in);
            assertThat(s.ucallKind()).isEqualTo(UcallKind.SYNC);
            assertThat(s.site().stage(s.values())).isEqualTo(1);
            Map<Long, Long> expected = new TreeMap<>(Long::compareUnsigned);
            for (int i = 0; i < PAGES; i++) {
                expected.put(DATA_GVA + i * 4096L, MemstressGuest.WRITE_PATTERN);
            }
            assertThat(mem.writes).as("pass %d", pass).isEqualTo(expected);
            mem.writes.clear();
        }
    }

    @Test
    void theMemstressGuestOnlyReadsAtZeroWritePercent() {
        MapMemory mem = memstressMemory(0, 0);
        GuestInterpreter in = new GuestInterpreter(MemstressGuest.PROGRAM, mem);
        in.setArgs(ARGS_GVA, 0);
        Step s = run(in);
        assertThat(s.ucallKind()).isEqualTo(UcallKind.SYNC);
        assertThat(mem.writes).isEmpty();
        assertThat(mem.reads).isGreaterThan(PAGES);
    }

    @Test
    void theMemstressGuestAbortsWhenItsVcpuIndexDisagreesWithMemstressArgs() {
        GuestInterpreter in = new GuestInterpreter(MemstressGuest.PROGRAM, memstressMemory(100, 5));
        in.setArgs(ARGS_GVA, 0);
        Step s = run(in);
        assertThat(s.ucallKind()).isEqualTo(UcallKind.ABORT);
        assertThat(s.site().render(s.values())).contains("vcpu_args->vcpu_idx == vcpu_idx");
        assertThat(run(in).kind()).isEqualTo(Step.Kind.HALT);
    }
}
