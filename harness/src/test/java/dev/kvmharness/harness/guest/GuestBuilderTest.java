// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class GuestBuilderTest {

    @Test
    void theBriefsExampleBuilds() {
        GuestProgram writePages = GuestProgram.define("write_pages", g -> {
            Reg gva = g.arg(0);
            Reg end = g.arg(1);
            Reg stride = g.arg(2);
            Reg pattern = g.temp();
            g.mov(pattern, 0x0123456789ABCDEFL);
            g.loop(() -> {
                g.whileTrue(Cond.ULT, gva, end, () -> {
                    g.store64(gva, 0, pattern);
                    g.add(gva, stride);
                });
                g.sync(1);
            });
        });
        assertThat(writePages.name()).isEqualTo("write_pages");
        assertThat(writePages.argCount()).isEqualTo(3);
        assertThat(writePages.ucallSites()).containsExactly(UcallSite.sync(1));
        List<Insn> i = writePages.instructions();
        assertThat(i).hasSize(11);
        Insn.Bind loopTop = (Insn.Bind) i.get(1);
        Insn.Bind whileTop = (Insn.Bind) i.get(2);
        Insn.Branch exit = (Insn.Branch) i.get(3);
        assertThat(i.get(0)).isEqualTo(new Insn.MovImm(Reg.of(6), 0x0123456789ABCDEFL));
        assertThat(exit.cond()).isEqualTo(Cond.UGE);
        assertThat(i.get(4)).isEqualTo(new Insn.Store(Width.QWORD, Reg.of(0), 0, Reg.of(6)));
        assertThat(i.get(5)).isEqualTo(new Insn.Alu(AluOp.ADD, Reg.of(0), Reg.of(2)));
        assertThat(i.get(6)).isEqualTo(new Insn.Jump(whileTop.label()));
        assertThat(i.get(7)).isEqualTo(new Insn.Bind(exit.target()));
        assertThat(i.get(8)).isEqualTo(new Insn.Ucall(0));
        assertThat(i.get(9)).isEqualTo(new Insn.Jump(loopTop.label()));
        assertThat(i.get(10)).isEqualTo(new Insn.Halt());
    }

    @Test
    void ifTrueBranchesAroundItsBodyOnTheNegatedCondition() {
        GuestProgram p = GuestProgram.define("if", g -> {
            Reg a = g.arg(0);
            g.ifTrue(Cond.NE, a, 0, () -> g.add(a, 1));
        });
        List<Insn> i = p.instructions();
        Insn.BranchImm skip = (Insn.BranchImm) i.get(0);
        assertThat(skip.cond()).isEqualTo(Cond.EQ);
        assertThat(skip.imm()).isZero();
        assertThat(i.get(1)).isEqualTo(new Insn.AluImm(AluOp.ADD, Reg.of(0), 1));
        assertThat(i.get(2)).isEqualTo(new Insn.Bind(skip.target()));
        assertThat(p.bindIndex(skip.target())).isEqualTo(2);
    }

    @Test
    void ifElseRunsExactlyOneArm() {
        GuestProgram p = GuestProgram.define("ifelse", g -> {
            Reg a = g.arg(0);
            Reg b = g.arg(1);
            g.ifElse(Cond.ULT, a, b, () -> g.mov(a, 1), () -> g.mov(a, 2));
        });
        List<Insn> i = p.instructions();
        Insn.Branch toElse = (Insn.Branch) i.get(0);
        assertThat(toElse.cond()).isEqualTo(Cond.UGE);
        assertThat(i.get(1)).isEqualTo(new Insn.MovImm(Reg.of(0), 1));
        Insn.Jump toEnd = (Insn.Jump) i.get(2);
        assertThat(i.get(3)).isEqualTo(new Insn.Bind(toElse.target()));
        assertThat(i.get(4)).isEqualTo(new Insn.MovImm(Reg.of(0), 2));
        assertThat(i.get(5)).isEqualTo(new Insn.Bind(toEnd.target()));
    }

    @Test
    void guestAssertAbortsAndHaltsWhenTheConditionFails() {
        GuestProgram p = GuestProgram.define("assert", g -> {
            Reg a = g.arg(0);
            Reg b = g.arg(1);
            Reg extra = g.temp();
            g.guestAssert(Cond.ULT, a, b, "extra=%lu", extra);
            g.guestAssert(Cond.EQ, a, 0x10, "");
        });
        List<Insn> i = p.instructions();
        Insn.Branch ok = (Insn.Branch) i.get(0);
        assertThat(ok.cond()).isEqualTo(Cond.ULT);
        assertThat(i.get(1)).isEqualTo(new Insn.Ucall(0));
        assertThat(i.get(2)).isEqualTo(new Insn.Halt());
        assertThat(i.get(3)).isEqualTo(new Insn.Bind(ok.target()));

        UcallSite first = p.ucallSites().get(0);
        assertThat(first.kind()).isEqualTo(UcallKind.ABORT);
        assertThat(first.values()).containsExactly(Reg.of(0), Reg.of(1), Reg.of(6));
        String msg = first.render(new long[] {0x20, 0x10, 7});
        assertThat(msg).startsWith("Failed guest assert: r0 ULT r1 (r0 = 0x20, r1 = 0x10) at GuestBuilderTest.java:")
                .endsWith("\n  extra=7");

        UcallSite second = p.ucallSites().get(1);
        assertThat(second.values()).containsExactly(Reg.of(0));
        assertThat(second.render(new long[] {3})).matches(
                "Failed guest assert: r0 EQ 0x10 \\(r0 = 0x3\\) at GuestBuilderTest.java:\\d+");
    }

    @Test
    void failAndPrintfAndDone() {
        GuestProgram p = GuestProgram.define("msgs", g -> {
            Reg a = g.arg(0);
            g.printf("a=%lx", a);
            g.fail("unexpected a=%ld", a);
            g.done();
        });
        List<UcallSite> s = p.ucallSites();
        assertThat(s.get(0)).isEqualTo(UcallSite.printf("a=%lx", List.of(Reg.of(0))));
        assertThat(s.get(1).kind()).isEqualTo(UcallKind.ABORT);
        assertThat(s.get(1).render(new long[] {-3})).startsWith("Failed guest assert: false at ")
                .endsWith("\n  unexpected a=-3");
        assertThat(s.get(2)).isEqualTo(UcallSite.done());
        assertThat(p.instructions()).containsExactly(new Insn.Ucall(0), new Insn.Ucall(1), new Insn.Halt(),
                new Insn.Ucall(2), new Insn.Halt());
    }

    @Test
    void syncWithAConstantNeedsNoRegister() {
        GuestProgram p = GuestProgram.define("sync", g -> {
            Reg stage = g.temp();
            g.sync(2);
            g.sync(stage);
        });
        assertThat(p.ucallSites()).containsExactly(UcallSite.sync(2), UcallSite.sync(Reg.of(6)));
    }

    @Test
    void tempsComeAfterTheArgumentsThenFromUnusedArguments() {
        AtomicReference<String> got = new AtomicReference<>();
        GuestProgram p = GuestProgram.define("temps", g -> {
            Reg a0 = g.arg(0);
            Reg a1 = g.arg(1);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 11; i++) {
                sb.append(g.temp()).append(' ');
            }
            got.set(sb.toString().trim());
            assertThatThrownBy(g::temp).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("out of guest registers");
            assertThatThrownBy(() -> g.arg(2)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already in use as a temp");
            assertThat(g.arg(1)).isEqualTo(a1);
            assertThat(a0.index()).isZero();
        });
        assertThat(got.get()).isEqualTo("r6 r7 r8 r9 r10 r11 r12 r5 r4 r3 r2");
        assertThat(p.argCount()).isEqualTo(2);
    }

    @Test
    void argCountIsTheHighestDeclaredArgumentPlusOne() {
        assertThat(GuestProgram.define("none", g -> g.pause()).argCount()).isZero();
        assertThat(GuestProgram.define("a3", g -> g.arg(3)).argCount()).isEqualTo(4);
        assertThatThrownBy(() -> GuestProgram.define("a6", g -> g.arg(6)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void literalZeroDivisorIsRejected() {
        assertThatThrownBy(() -> GuestProgram.define("div0", g -> g.udiv(g.arg(0), 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("literal 0");
        assertThatThrownBy(() -> GuestProgram.define("rem0", g -> g.urem(g.arg(0), 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("literal 0");
    }

    @Test
    void builderIsDeadAfterDefine() {
        AtomicReference<GuestBuilder> leaked = new AtomicReference<>();
        GuestProgram.define("leak", leaked::set);
        assertThatThrownBy(() -> leaked.get().pause()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> leaked.get().temp()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void everyInstructionHelperEmitsItsInsn() {
        GuestProgram p = GuestProgram.define("all", g -> {
            Reg a = g.arg(0);
            Reg b = g.arg(1);
            g.mov(a, b);
            g.sub(a, b);
            g.mul(a, 3);
            g.udiv(a, b);
            g.urem(a, b);
            g.and(a, 0xff);
            g.or(a, b);
            g.xor(a, -1);
            g.shl(a, b);
            g.shr(a, 4);
            g.load8(a, b, 1);
            g.load16(a, b, 2);
            g.load32(a, b, 4);
            g.load64(a, b, -8);
            g.store8(a, 1, b);
            g.store16(a, 2, b);
            g.store32(a, 4, b);
            g.store64(a, -8, b);
            g.pause();
            g.halt();
        });
        Reg a = Reg.of(0);
        Reg b = Reg.of(1);
        assertThat(p.instructions()).containsExactly(
                new Insn.Mov(a, b),
                new Insn.Alu(AluOp.SUB, a, b),
                new Insn.AluImm(AluOp.MUL, a, 3),
                new Insn.Alu(AluOp.UDIV, a, b),
                new Insn.Alu(AluOp.UREM, a, b),
                new Insn.AluImm(AluOp.AND, a, 0xff),
                new Insn.Alu(AluOp.OR, a, b),
                new Insn.AluImm(AluOp.XOR, a, -1),
                new Insn.Alu(AluOp.SHL, a, b),
                new Insn.AluImm(AluOp.SHR, a, 4),
                new Insn.Load(Width.BYTE, a, b, 1),
                new Insn.Load(Width.WORD, a, b, 2),
                new Insn.Load(Width.DWORD, a, b, 4),
                new Insn.Load(Width.QWORD, a, b, -8),
                new Insn.Store(Width.BYTE, a, 1, b),
                new Insn.Store(Width.WORD, a, 2, b),
                new Insn.Store(Width.DWORD, a, 4, b),
                new Insn.Store(Width.QWORD, a, -8, b),
                new Insn.Pause(),
                new Insn.Halt());
    }
}
