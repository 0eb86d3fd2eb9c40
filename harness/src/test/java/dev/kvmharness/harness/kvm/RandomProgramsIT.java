// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.kvmharness.harness.BackingSource;
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
import dev.kvmharness.harness.guest.Width;
import dev.kvmharness.junit.RequiresKvm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential test of the x86 compiler against the reference {@link GuestInterpreter}: random IR programs
 * (ALU ops in register and immediate form with awkward immediates, loads and stores of every width, forward
 * branches on every condition, ucalls) run on real KVM and in the interpreter, and every ucall's values and
 * the final contents of the data page must agree.
 *
 * <p>Each program comes from its own seed, printed with any failure together with the program listing. To
 * replay one, run with {@code -Dkvmharness.random.seed=<seed> -Dkvmharness.random.count=1}.
 */
@RequiresKvm
class RandomProgramsIT {
    private static final KvmBackend KVM = new KvmBackend();
    /** Above 4 GiB, so every address computation needs a 64-bit immediate. */
    static final long DATA_GVA = 0x10_0000_0000L;
    static final long DATA_GPA = 0x1_0000_0000L;
    static final int PAGE = 4096;
    private static final int PROGRAMS = Integer.getInteger("kvmharness.random.count", 300);
    private static final long BASE_SEED = Long.getLong("kvmharness.random.seed", System.nanoTime());
    /** Guards against a runaway program; no test program comes near these. */
    private static final long MAX_STEPS = 100_000_000;
    private static final int MAX_UCALLS = 100_000;

    @TestFactory
    Stream<DynamicTest> randomProgramsBehaveOnKvmExactlyAsInTheInterpreter() {
        return IntStream.range(0, PROGRAMS).mapToObj(i -> {
            long seed = BASE_SEED + i;
            return dynamicTest("seed " + seed, () -> check(seed));
        });
    }

    /** What one run produced: the ucalls up to and including GUEST_DONE, and the data page at the end. */
    record Outcome(List<Ucall> ucalls, long[] page) {
        List<String> described() {
            return ucalls.stream().map(RandomProgramsIT::describe).toList();
        }
    }

    private static void check(long seed) {
        Random rnd = new Random(seed);
        GuestProgram p = GuestProgram.define("random-" + seed, g -> new Generator(g, rnd).program());
        long[] args = new long[Reg.ARG_COUNT];
        for (int i = 0; i < args.length; i++) {
            args[i] = Generator.immediate(rnd);
        }
        long[] initial = new long[PAGE / 8];
        for (int i = 0; i < initial.length; i++) {
            initial[i] = rnd.nextLong();
        }
        String context = "program from seed " + seed + " (replay with -Dkvmharness.random.seed=" + seed
                + " -Dkvmharness.random.count=1), args " + hex(args) + "\n" + p.listing();

        Outcome expected;
        try {
            expected = interpret(p, args, initial);
        } catch (RuntimeException e) {
            throw new AssertionError("interpreter failed on " + context, e);
        }
        Outcome actual;
        try {
            actual = runOnKvm(p, args, initial);
        } catch (RuntimeException e) {
            throw new AssertionError("KVM run failed on " + context + "\ninterpreter ucalls:\n  "
                    + String.join("\n  ", expected.described()), e);
        }
        compare(context, expected, actual);
    }

    /** Fails unless both runs made the same ucalls with the same values and left the same data page. */
    static void compare(String context, Outcome expected, Outcome actual) {
        List<String> want = expected.described();
        List<String> got = actual.described();
        if (!got.equals(want)) {
            int first = 0;
            while (first < Math.min(got.size(), want.size()) && got.get(first).equals(want.get(first))) {
                first++;
            }
            throw new AssertionError("ucalls differ between KVM and the interpreter from ucall #" + first + " on for "
                    + context + "\nKVM:\n  " + String.join("\n  ", excerpt(got, first))
                    + "\ninterpreter:\n  " + String.join("\n  ", excerpt(want, first)));
        }
        List<String> diffs = new ArrayList<>();
        for (int i = 0; i < expected.page().length; i++) {
            if (expected.page()[i] != actual.page()[i]) {
                diffs.add(String.format("offset 0x%03x: KVM 0x%016x, interpreter 0x%016x", i * 8, actual.page()[i],
                        expected.page()[i]));
            }
        }
        if (!diffs.isEmpty()) {
            throw new AssertionError("data page differs between KVM and the interpreter in " + diffs.size()
                    + " qword(s) for " + context + "\n  " + String.join("\n  ", diffs.subList(0, Math.min(16,
                    diffs.size()))));
        }
    }

    /** A few ucalls around the first difference, numbered. */
    private static List<String> excerpt(List<String> ucalls, int first) {
        List<String> out = new ArrayList<>();
        for (int i = Math.max(0, first - 2); i < Math.min(ucalls.size(), first + 3); i++) {
            out.add("#" + i + " " + ucalls.get(i));
        }
        if (out.isEmpty()) {
            out.add("(no ucall #" + first + "; " + ucalls.size() + " in all)");
        }
        return out;
    }

    static String describe(Ucall uc) {
        return uc.kind() + (uc.kind() == Ucall.Kind.SYNC ? " " + uc.stage() : "") + " " + hex(uc.values()) + " \""
                + uc.message() + "\"";
    }

    static String hex(long[] values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(values[i]));
        }
        return sb.append(']').toString();
    }

    /** Runs the program in the interpreter over a copy of {@code initial} at {@link #DATA_GVA}. */
    static Outcome interpret(GuestProgram p, long[] args, long[] initial) {
        ByteBuffer page = ByteBuffer.allocate(PAGE).order(ByteOrder.LITTLE_ENDIAN);
        page.asLongBuffer().put(initial);
        GuestInterpreter in = new GuestInterpreter(p, InterpreterMemory.flat(DATA_GVA, page.array()));
        in.setArgs(args);
        List<Ucall> ucalls = new ArrayList<>();
        while (true) {
            GuestInterpreter.Step s = in.run(MAX_STEPS);
            if (!s.isUcall()) {
                throw new IllegalStateException("interpreter stopped without GUEST_DONE: " + s.kind() + " at #"
                        + in.pc() + " after " + ucalls.stream().map(RandomProgramsIT::describe).toList());
            }
            Ucall uc = Ucall.of(s.site(), s.values());
            ucalls.add(uc);
            if (uc.kind() == Ucall.Kind.DONE || ucalls.size() > MAX_UCALLS) {
                break;
            }
        }
        long[] out = new long[PAGE / 8];
        page.asLongBuffer().get(out);
        return new Outcome(ucalls, out);
    }

    /** Runs the program on a fresh VM whose data page at {@link #DATA_GVA} starts as {@code initial}. */
    static Outcome runOnKvm(GuestProgram p, long[] args, long[] initial) {
        try (Vm vm = KVM.createVm(VmShape.of(p, 1).withRunTimeout(Duration.ofSeconds(10)))) {
            vm.addRegion(BackingSource.ANONYMOUS, DATA_GPA, 1, 1, 0);
            vm.virtMap(DATA_GVA, DATA_GPA, PAGE);
            for (int i = 0; i < initial.length; i++) {
                vm.write64(DATA_GPA + i * 8L, initial[i]);
            }
            vm.vcpu(0).setArgs(args);
            List<Ucall> ucalls = new ArrayList<>();
            while (true) {
                Ucall uc = vm.vcpu(0).runToUcall();
                ucalls.add(uc);
                if (uc.kind() == Ucall.Kind.DONE || ucalls.size() > MAX_UCALLS) {
                    break;
                }
            }
            long[] page = new long[PAGE / 8];
            for (int i = 0; i < page.length; i++) {
                page[i] = vm.read64(DATA_GPA + i * 8L);
            }
            return new Outcome(ucalls, page);
        }
    }

    /**
     * Emits one random program: straight-line code with forward branches and jumps, using all 13 registers,
     * then a printf of every register and GUEST_DONE. Every memory access lands in the data page, at an address
     * computed from a register's value; every register divisor is made odd first.
     */
    static final class Generator {
        private static final long[] SPECIAL = {0, 1, -1, 2, 63, 64, 65, 0x7f, 0x80, 0xff, 0x7fff_ffffL, 0x8000_0000L,
            0xffff_ffffL, 0x1_0000_0000L, -0x8000_0000L, -0x8000_0001L, Long.MIN_VALUE, Long.MAX_VALUE,
            0x0123_4567_89AB_CDEFL};

        private record Pending(Label label, int at) {
        }

        private final GuestBuilder g;
        private final Random rnd;
        private final List<Pending> pending = new ArrayList<>();
        private int printfs;

        Generator(GuestBuilder g, Random rnd) {
            this.g = g;
            this.rnd = rnd;
        }

        /** An immediate from a mix of small, 32-bit (often negative), boundary and full 64-bit values. */
        static long immediate(Random rnd) {
            switch (rnd.nextInt(6)) {
                case 0:
                    return rnd.nextInt(256) - 128L;
                case 1:
                    return rnd.nextInt();
                case 2:
                    return -1L - rnd.nextInt(Integer.MAX_VALUE);
                case 3:
                    return SPECIAL[rnd.nextInt(SPECIAL.length)];
                default:
                    return rnd.nextLong();
            }
        }

        private Reg reg() {
            return Reg.of(rnd.nextInt(Reg.COUNT));
        }

        void program() {
            for (int i = 0; i < Reg.ARG_COUNT; i++) {
                g.arg(i);
            }
            int length = 40 + rnd.nextInt(120);
            for (int k = 0; k < length; k++) {
                bindDue(k);
                int choice = rnd.nextInt(100);
                if (choice < 28) {
                    aluRegister();
                } else if (choice < 52) {
                    aluImmediate();
                } else if (choice < 58) {
                    g.mov(reg(), immediate(rnd));
                } else if (choice < 62) {
                    g.mov(reg(), reg());
                } else if (choice < 72) {
                    store();
                } else if (choice < 81) {
                    load();
                } else if (choice < 91) {
                    branch(k);
                } else if (choice < 93) {
                    Label l = g.label();
                    g.jump(l);
                    pending.add(new Pending(l, k + 1 + rnd.nextInt(6)));
                } else if (choice < 98) {
                    ucall();
                } else {
                    g.pause();
                }
            }
            bindDue(Integer.MAX_VALUE);
            Reg[] all = new Reg[Reg.COUNT];
            StringBuilder format = new StringBuilder("final:");
            for (int i = 0; i < all.length; i++) {
                all[i] = Reg.of(i);
                format.append(" r").append(i).append("=%lx");
            }
            g.printf(format.toString(), all);
            g.done();
        }

        private void bindDue(int k) {
            pending.removeIf(p -> {
                if (p.at() <= k) {
                    g.bind(p.label());
                    return true;
                }
                return false;
            });
        }

        private void aluRegister() {
            AluOp op = AluOp.values()[rnd.nextInt(AluOp.values().length)];
            Reg dst = reg();
            Reg src = rnd.nextInt(8) == 0 ? dst : reg();
            if (op.divides()) {
                g.or(src, 1);
            }
            g.alu(op, dst, src);
        }

        private void aluImmediate() {
            AluOp op = AluOp.values()[rnd.nextInt(AluOp.values().length)];
            long imm;
            if ((op == AluOp.SHL || op == AluOp.SHR) && rnd.nextBoolean()) {
                imm = rnd.nextInt(200);
            } else {
                imm = immediate(rnd);
            }
            if (op.divides() && imm == 0) {
                imm = 3;
            }
            g.alu(op, reg(), imm);
        }

        /**
         * Points {@code base} into the data page so that {@code base + disp} can hold any {@code w}-sized access:
         * either at a fixed offset, or at {@code (reg & 0x7ff) + k}, an address that depends on the program's
         * computation.
         */
        private int address(Reg base, Width w) {
            int disp = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(0x1001) - 0x800;
            if (rnd.nextInt(4) == 0) {
                long offset = rnd.nextInt(PAGE - w.bytes() + 1);
                g.mov(base, DATA_GVA + offset - disp);
            } else {
                long k = rnd.nextInt(0x800 - w.bytes() + 1);
                g.mov(base, reg());
                g.and(base, 0x7ff);
                g.add(base, DATA_GVA + k - disp);
            }
            return disp;
        }

        private void store() {
            Width w = Width.values()[rnd.nextInt(4)];
            Reg base = reg();
            int disp = address(base, w);
            g.store(w, base, disp, reg());
        }

        private void load() {
            Width w = Width.values()[rnd.nextInt(4)];
            Reg base = reg();
            int disp = address(base, w);
            g.load(w, reg(), base, disp);
        }

        private void branch(int k) {
            Cond cond = Cond.values()[rnd.nextInt(Cond.values().length)];
            Label l = g.label();
            Reg a = reg();
            switch (rnd.nextInt(3)) {
                case 0 -> g.branch(cond, a, reg(), l);
                case 1 -> g.branch(cond, a, rnd.nextInt(5) == 0 ? a : reg(), l);
                default -> g.branch(cond, a, immediate(rnd), l);
            }
            pending.add(new Pending(l, k + 1 + rnd.nextInt(12)));
        }

        private void ucall() {
            if (rnd.nextInt(3) == 0) {
                if (rnd.nextBoolean()) {
                    g.sync(reg());
                } else {
                    g.sync(rnd.nextInt(100));
                }
                return;
            }
            Reg[] values = new Reg[1 + rnd.nextInt(6)];
            StringBuilder format = new StringBuilder("p").append(printfs++).append(':');
            String[] conversions = {" %lx", " %lu", " %ld", " %x", " %016lx"};
            for (int i = 0; i < values.length; i++) {
                values[i] = reg();
                format.append(conversions[rnd.nextInt(conversions.length)]);
            }
            g.printf(format.toString(), values);
        }
    }
}
