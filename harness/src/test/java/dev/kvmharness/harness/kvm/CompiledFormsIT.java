// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import static dev.kvmharness.harness.kvm.RandomProgramsIT.DATA_GVA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.AluOp;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.GuestInterpreter;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.InterpreterMemory;
import dev.kvmharness.harness.guest.Label;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.guest.UcallKind;
import dev.kvmharness.harness.guest.Width;
import dev.kvmharness.harness.kvm.RandomProgramsIT.Outcome;
import dev.kvmharness.harness.x86.X86Compiler;
import dev.kvmharness.harness.x86.X86Reg;
import dev.kvmharness.junit.RequiresKvm;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The x86 lowerings that need special care, each run on real KVM and compared with the reference
 * {@link GuestInterpreter} (every ucall's values and the data page), plus explicit expectations where a wrong
 * lowering has a known symptom: variable shifts and divisions that involve RCX (IR {@code r2}, the register
 * whose CL is the shift count), divisions by an immediate (which borrow a register through the stack),
 * immediates that do not fit a sign-extended imm32, byte stores from the registers that need a REX prefix
 * (SIL, DIL, BPL), memory bases whose encodings are irregular (RBP, R12, R13), long ucall sequences, a resumed
 * vCPU after a guest assert, and division by zero.
 */
@RequiresKvm
class CompiledFormsIT {
    private static final KvmBackend KVM = new KvmBackend();
    private static final Reg RCX = irReg(X86Reg.RCX);
    private static final Reg RBX = irReg(X86Reg.RBX);
    private static final Reg RBP = irReg(X86Reg.RBP);
    private static final Reg RSI = irReg(X86Reg.RSI);
    private static final Reg RDI = irReg(X86Reg.RDI);
    private static final Reg R12 = irReg(X86Reg.R12);
    private static final Reg R13 = irReg(X86Reg.R13);
    private static final Reg[] ALL = new Reg[Reg.COUNT];
    private static final String ALL_FORMAT;

    static {
        StringBuilder f = new StringBuilder();
        for (int i = 0; i < Reg.COUNT; i++) {
            ALL[i] = Reg.of(i);
            f.append(" r").append(i).append("=%lx");
        }
        ALL_FORMAT = "%s" + f;
    }

    private static Reg irReg(X86Reg x) {
        return Reg.of(X86Compiler.REGISTER_MAP.indexOf(x));
    }

    /** Loads every register with a distinct, recognisable value: {@link #filled}. */
    private static void fillRegisters(GuestBuilder g, int round) {
        for (int i = 0; i < Reg.COUNT; i++) {
            g.mov(Reg.of(i), filled(round, Reg.of(i)));
        }
    }

    private static long filled(int round, Reg r) {
        return 0x5A00_0000_0000_0000L + ((long) round << 16) + ((long) r.index() << 8) + 0xC0 + r.index();
    }

    /** A printf of every register, tagged so that a difference names the case. */
    private static void printAll(GuestBuilder g, String tag) {
        g.printf(ALL_FORMAT.replace("%s", tag.replace("%", "%%")), ALL);
    }

    /**
     * Runs {@code p} on KVM and in the interpreter over the same random initial data page and fails on any
     * difference; returns the KVM outcome for further checks.
     */
    private static Outcome differential(GuestProgram p, long... args) {
        long[] initial = new long[RandomProgramsIT.PAGE / 8];
        Random rnd = new Random(p.name().hashCode());
        for (int i = 0; i < initial.length; i++) {
            initial[i] = rnd.nextLong();
        }
        Outcome expected = RandomProgramsIT.interpret(p, args, initial);
        Outcome actual = RandomProgramsIT.runOnKvm(p, args, initial);
        RandomProgramsIT.compare(p.listing(), expected, actual);
        return actual;
    }

    private static Vm vm(GuestProgram p) {
        Vm vm = KVM.createVm(VmShape.of(p, 1).withRunTimeout(Duration.ofSeconds(30)));
        vm.addRegion(BackingSource.ANONYMOUS, RandomProgramsIT.DATA_GPA, 1, 1, 0);
        vm.virtMap(DATA_GVA, RandomProgramsIT.DATA_GPA, RandomProgramsIT.PAGE);
        return vm;
    }

    private static final long[] SHIFT_COUNTS = {0, 1, 13, 63, 64, 65, 0x47, 0x100, -1, 0x7FFF_FFFF_FFFF_FFC3L};

    @Test
    void variableShiftsWithRcxAsDestinationCountOrBoth() {
        Reg[][] pairs = {{RCX, RDI}, {RDI, RCX}, {RCX, RCX}, {RCX, RBX}, {RBP, RCX}, {RSI, RDI}, {R13, RCX}};
        GuestProgram p = GuestProgram.define("shifts-rcx", g -> {
            int round = 0;
            for (AluOp op : List.of(AluOp.SHL, AluOp.SHR)) {
                for (Reg[] pair : pairs) {
                    for (long count : SHIFT_COUNTS) {
                        fillRegisters(g, round++);
                        if (!pair[0].equals(pair[1])) {
                            g.mov(pair[1], count);
                        } else {
                            // Shifting a register by itself: its value is both the operand and the count.
                            g.mov(pair[0], 0x8000_0000_0000_0000L | count);
                        }
                        g.alu(op, pair[0], pair[1]);
                        printAll(g, op + " " + pair[0] + ", " + pair[1] + " by 0x" + Long.toHexString(count));
                    }
                }
            }
            g.done();
        });
        Outcome out = differential(p);
        // Spot checks, one printf per round: round 5 is shl rcx, rdi with rdi = 65 (a shift by 1); rounds 14
        // and 15 are shl rdi, rcx with rcx = 64 (no shift) and 65.
        assertThat(out.ucalls().get(5).values()[RCX.index()]).isEqualTo(filled(5, RCX) << 1);
        assertThat(out.ucalls().get(5).values()[RDI.index()]).isEqualTo(65);
        assertThat(out.ucalls().get(14).values()[RDI.index()]).isEqualTo(filled(14, RDI));
        assertThat(out.ucalls().get(15).values()[RDI.index()]).isEqualTo(filled(15, RDI) << 1);
        assertThat(out.ucalls().get(15).values()[RCX.index()]).isEqualTo(65);
    }

    @Test
    void divisionsWithRcxOrRbxAsDestinationOrDivisor() {
        Reg[][] pairs = {{RCX, RDI}, {RDI, RCX}, {RCX, RCX}, {RCX, RBX}, {RBX, RCX}, {RBX, RBX}, {R12, RSI}};
        long[] divisors = {1, 3, 7, 0x1_0000_0000L, 0xFFFF_FFFFL, -1, Long.MIN_VALUE, 0x5A00_0000_0000_0000L};
        GuestProgram p = GuestProgram.define("divide-rcx", g -> {
            int round = 0;
            for (AluOp op : List.of(AluOp.UDIV, AluOp.UREM)) {
                for (Reg[] pair : pairs) {
                    for (long d : divisors) {
                        fillRegisters(g, round++);
                        if (!pair[0].equals(pair[1])) {
                            g.mov(pair[1], d);
                        }
                        g.alu(op, pair[0], pair[1]);
                        printAll(g, op + " " + pair[0] + ", " + pair[1] + " = 0x" + Long.toHexString(d));
                    }
                }
            }
            g.done();
        });
        differential(p);
    }

    @Test
    void divisionsByImmediatesPreserveTheBorrowedRegister() {
        Reg[] dsts = {RCX, RBX, RDI, RSI, RBP, R12, R13, Reg.of(12)};
        long[] divisors = {1, 2, 10, 0x7FFF_FFFF, 0x8000_0000L, 0xFFFF_FFFFL, -3, 0x1_0000_0001L, Long.MIN_VALUE, -1};
        GuestProgram p = GuestProgram.define("divide-imm", g -> {
            int round = 0;
            for (AluOp op : List.of(AluOp.UDIV, AluOp.UREM)) {
                for (Reg dst : dsts) {
                    for (long d : divisors) {
                        fillRegisters(g, round++);
                        g.alu(op, dst, d);
                        printAll(g, op + " " + dst + ", 0x" + Long.toHexString(d));
                    }
                }
            }
            g.done();
        });
        Outcome out = differential(p);
        // udiv rcx, 10: RBX was borrowed for the divisor and must hold its old value again.
        long[] v = out.ucalls().get(2).values();
        assertThat(v[RCX.index()]).isEqualTo(Long.divideUnsigned(filled(2, RCX), 10));
        assertThat(v[RBX.index()]).isEqualTo(filled(2, RBX));
        // The round after the ten for RCX, again dividing by 10: udiv rbx, 10, which borrows RCX.
        int round = divisors.length + 2;
        v = out.ucalls().get(round).values();
        assertThat(v[RBX.index()]).isEqualTo(Long.divideUnsigned(filled(round, RBX), 10));
        assertThat(v[RCX.index()]).isEqualTo(filled(round, RCX));
    }

    private static final long[] WIDE_IMMEDIATES = {0x8000_0000L, 0xFFFF_FFFFL, 0x1_0000_0000L, -0x8000_0001L,
        Long.MIN_VALUE, Long.MAX_VALUE, 0x1234_5678_9ABC_DEF0L, 0x7FFF_FFFF, -0x8000_0000L, -1, 0x80, -0x81};

    @Test
    void immediatesThatDoNotFitASignExtendedImm32() {
        GuestProgram p = GuestProgram.define("wide-imm", g -> {
            Reg x = g.arg(0);
            Reg y = g.temp();
            Reg bits = g.temp();
            for (long imm : WIDE_IMMEDIATES) {
                for (AluOp op : AluOp.values()) {
                    for (Reg dst : List.of(RCX, Reg.of(12))) {
                        g.mov(dst, x);
                        g.alu(op, dst, imm);
                        g.mov(y, imm);
                        g.printf(op + " 0x" + Long.toHexString(imm) + ": %lx %lx", dst, y);
                    }
                }
                // Branches against the immediate, with the register equal to it and on either side of it.
                for (long delta : new long[] {0, 1, -1}) {
                    g.mov(y, imm + delta);
                    g.mov(bits, 0);
                    for (Cond c : Cond.values()) {
                        Label skip = g.label();
                        g.branch(c.negate(), y, imm, skip);
                        g.or(bits, 1L << c.ordinal());
                        g.bind(skip);
                    }
                    g.printf("branch 0x" + Long.toHexString(imm) + " delta " + delta + ": %lx", bits);
                }
            }
            g.done();
        });
        long x = 0xFEDC_BA98_7654_3210L;
        Outcome out = differential(p, x);
        // and with 0xffffffff must clear the high half (an imm32 -1 would keep it); add 0x80000000 must add.
        assertThat(find(out, "AND 0xffffffff: ").values()[0]).isEqualTo(0x7654_3210L);
        assertThat(find(out, "ADD 0x80000000: ").values()[0]).isEqualTo(x + 0x8000_0000L);
        assertThat(find(out, "XOR 0xffffffff: ").values()[0]).isEqualTo(x ^ 0xFFFF_FFFFL);
        // 0x80000000 ULT 0x80000000 + 1, unsigned and unextended: EQ=0 NE=1 ULT=0 ULE=0 UGT=1 UGE=1 for delta 1.
        assertThat(find(out, "branch 0x80000000 delta 1: ").values()[0]).isEqualTo(0b110010L);
        assertThat(find(out, "branch 0xffffffff delta 0: ").values()[0]).isEqualTo(0b101001L);
    }

    private static Ucall find(Outcome out, String prefix) {
        return out.ucalls().stream().filter(u -> u.message().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no ucall starting with " + prefix));
    }

    @Test
    void storesOfEveryWidthFromEveryRegisterIncludingSilDilAndBpl() {
        GuestProgram p = GuestProgram.define("byte-stores", g -> {
            int slot = 0;
            for (Width w : Width.values()) {
                for (int src = 0; src < Reg.COUNT; src++) {
                    fillRegisters(g, slot);
                    // The base is some other register, so that the stored value is the recognisable one.
                    Reg base = Reg.of((src + 1 + w.ordinal()) % Reg.COUNT);
                    g.mov(base, DATA_GVA);
                    g.store(w, base, slot * 16, Reg.of(src));
                    slot++;
                }
            }
            g.done();
        });
        Outcome out = differential(p);
        int slot = 0;
        for (Width w : Width.values()) {
            for (int src = 0; src < Reg.COUNT; src++) {
                long value = filled(slot, Reg.of(src));
                long stored = out.page()[slot * 2];
                assertThat(stored & mask(w)).as("%s store from r%d (%s)", w, src, X86Compiler.register(Reg.of(src)))
                        .isEqualTo(w.truncate(value));
                slot++;
            }
        }
        long dil = out.page()[RDI.index() * 2];
        long sil = out.page()[RSI.index() * 2];
        assertThat(dil & 0xFF).isEqualTo(0xC0L + RDI.index());
        assertThat(sil & 0xFF).isEqualTo(0xC0L + RSI.index());
    }

    private static long mask(Width w) {
        return w.truncate(-1);
    }

    @Test
    void memoryBasesInRbpR12R13AndOthersWithEveryDisplacementSize() {
        Reg[] bases = {RBP, R12, R13, Reg.of(11), Reg.of(12), RDI, RCX, Reg.of(3)};
        int[] disps = {0, 8, -8, 0x7F, 0x80, -0x80, -0x81, 1000, -1000, 0x7F8, -0x800};
        GuestProgram p = GuestProgram.define("bases", g -> {
            Reg v = Reg.of(4);
            Reg loaded = Reg.of(5);
            int round = 0;
            for (Reg base : bases) {
                for (int disp : disps) {
                    for (Width w : Width.values()) {
                        fillRegisters(g, round++);
                        g.mov(base, DATA_GVA + 0x800);
                        Reg src = base.equals(v) ? RSI : v;
                        Reg dst = base.equals(loaded) ? RSI : loaded;
                        g.store(w, base, disp, src);
                        g.alu(AluOp.XOR, src, src);
                        g.load(w, dst, base, disp);
                        g.printf(w + " [" + base + " " + disp + "]: %lx", dst);
                    }
                    // The base register as the loaded value's destination, and as the stored value.
                    g.mov(base, DATA_GVA + 0x800);
                    g.store64(base, disp, base);
                    g.load64(base, base, disp);
                    g.printf("self [" + base + " " + disp + "]: %lx", base);
                }
            }
            g.done();
        });
        Outcome out = differential(p);
        assertThat(find(out, "self [r9 0]: ").values()[0]).isEqualTo(DATA_GVA + 0x800);
        assertThat(find(out, "self [r10 -129]: ").values()[0]).isEqualTo(DATA_GVA + 0x800);
    }

    /**
     * Division by an immediate borrows a register through {@code push}/{@code pop}. If the lowering left RSP
     * even 8 bytes off per division, these 280,000 divisions would move it over 2 MiB, beyond slot 0 (where the
     * stack, code, descriptor tables and page tables live, about 2 MiB in all) in either direction: going down
     * it overwrites code and page tables, going up it leaves guest memory (an MMIO exit). Either way the
     * program would stop behaving; unbalanced pops would also corrupt the borrowed registers the loop sums.
     */
    @Test
    void manyImmediateDivisionsKeepTheStackBalanced() {
        long iterations = 70_000;
        long every = 7_000;
        GuestProgram p = GuestProgram.define("divide-loop", g -> {
            Reg i = Reg.of(7);
            Reg t = Reg.of(8);
            Reg acc = Reg.of(9);
            g.whileTrue(Cond.ULT, i, iterations, () -> {
                g.mov(RCX, i);
                g.add(RCX, 0x1234_5678_9ABCL);
                g.udiv(RCX, 7); // borrows RBX
                g.mov(RBX, i);
                g.urem(RBX, 0x1_0000_0001L); // borrows RCX
                g.add(acc, RCX);
                g.add(acc, RBX);
                g.mov(RDI, i);
                g.urem(RDI, 1000); // borrows RCX
                g.mov(RBX, RDI);
                g.udiv(RBX, 3); // borrows RCX
                g.add(acc, RDI);
                g.add(acc, RBX);
                g.mov(t, i);
                g.urem(t, every);
                g.ifTrue(Cond.EQ, t, 0, () -> g.sync(i));
                g.add(i, 1);
            });
            printAll(g, "end");
            g.done();
        });
        Outcome out = differential(p);
        assertThat(out.ucalls()).hasSize((int) (iterations / every) + 2);
        for (int k = 0; k < iterations / every; k++) {
            assertThat(out.ucalls().get(k).stage()).isEqualTo(k * every);
        }
        long acc = 0;
        for (long i = 0; i < iterations; i++) {
            acc += Long.divideUnsigned(i + 0x1234_5678_9ABCL, 7) + i + i % 1000 + i % 1000 / 3;
        }
        assertThat(out.ucalls().get(out.ucalls().size() - 2).values()[9]).isEqualTo(acc);
    }

    @Test
    void aThousandSyncsEachResumeWhereTheGuestLeftOff() {
        GuestProgram p = GuestProgram.define("thousand-syncs", g -> {
            Reg i = g.temp();
            Reg sum = g.temp();
            g.whileTrue(Cond.ULT, i, 1000, () -> {
                g.sync(i);
                g.add(sum, i);
                g.add(i, 1);
            });
            g.printf("sum %lu", sum);
            g.done();
        });
        try (Vm vm = vm(p)) {
            for (int k = 0; k < 1000; k++) {
                Ucall uc = vm.vcpu(0).runToUcall();
                assertThat(uc.kind()).isEqualTo(Ucall.Kind.SYNC);
                assertThat(uc.stage()).isEqualTo(k);
            }
            assertThat(vm.vcpu(0).runToUcall().message()).isEqualTo("sum 499500");
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }
        differential(p);
    }

    @Test
    void aFailedGuestAssertLeavesTheVcpuHaltedHoweverOftenItIsResumed() {
        GuestProgram p = GuestProgram.define("assert-then-resume", g -> {
            Reg x = g.arg(0);
            g.guestAssert(Cond.EQ, x, 1, "x = %lu", x);
            g.sync(99);
            g.done();
        });
        try (Vm vm = vm(p)) {
            vm.vcpu(0).setArgs(2);
            assertThatThrownBy(() -> vm.vcpu(0).runToUcall()).isInstanceOf(TestAssertionFailure.class)
                    .hasMessageContaining("x = 2");
            for (int i = 0; i < 3; i++) {
                Exit exit = vm.vcpu(0).run();
                assertThat(exit.reason()).as("resume %d: %s", i, exit).isEqualTo(Exit.HLT);
                assertThat(vm.vcpu(0).ucall()).isEqualTo(Ucall.NONE);
            }
        }
        GuestInterpreter in = new GuestInterpreter(p, InterpreterMemory.flat(0, new byte[0]));
        in.setArgs(2);
        assertThat(in.run(1000).ucallKind()).isEqualTo(UcallKind.ABORT);
        for (int i = 0; i < 3; i++) {
            assertThat(in.run(1000).kind()).isEqualTo(GuestInterpreter.Step.Kind.HALT);
        }
    }

    @Test
    void dividingByZeroInARegisterShutsTheVcpuDown() {
        Reg[][] pairs = {{RDI, RSI}, {RCX, RSI}, {RDI, RCX}, {RCX, RCX}};
        for (AluOp op : List.of(AluOp.UDIV, AluOp.UREM)) {
            for (Reg[] pair : pairs) {
                GuestProgram p = GuestProgram.define("div0-" + op + "-" + pair[0] + "-" + pair[1], g -> {
                    g.arg(0);
                    g.arg(1);
                    g.arg(2);
                    g.sync(1);
                    g.alu(op, pair[0], pair[1]);
                    g.sync(2);
                    g.done();
                });
                try (Vm vm = vm(p)) {
                    long[] args = {7, 7, 7};
                    args[pair[1].index()] = 0;
                    vm.vcpu(0).setArgs(args);
                    assertThat(vm.vcpu(0).runToUcall().stage()).isEqualTo(1);
                    Exit exit = vm.vcpu(0).run();
                    assertThat(exit.reason()).as("%s %s, %s = 0: %s", op, pair[0], pair[1], exit).isEqualTo(Exit.SHUTDOWN);
                    assertThat(vm.vcpu(0).ucall()).isEqualTo(Ucall.NONE);
                }
                GuestInterpreter in = new GuestInterpreter(p, InterpreterMemory.flat(0, new byte[0]));
                long[] args = {7, 7, 7};
                args[pair[1].index()] = 0;
                in.setArgs(args);
                assertThat(in.run(1000).isUcall()).isTrue();
                assertThatThrownBy(() -> in.run(1000)).isInstanceOfSatisfying(
                        GuestInterpreter.DivideByZeroException.class, e -> assertThat(e.insnIndex()).isEqualTo(1));
            }
        }
    }
}
