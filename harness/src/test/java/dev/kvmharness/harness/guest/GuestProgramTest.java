// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class GuestProgramTest {

    @Test
    void labelUsedButNeverBoundIsRejected() {
        assertThatThrownBy(() -> GuestProgram.define("unbound", g -> g.jump(g.label())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unbound: instruction #0")
                .hasMessageContaining("never bound");
    }

    @Test
    void labelBoundTwiceIsRejected() {
        assertThatThrownBy(() -> GuestProgram.define("twice", g -> {
            Label l = g.label();
            g.bind(l);
            g.pause();
            g.bind(l);
        })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bound twice, at instructions #0 and #2");
    }

    @Test
    void labelFromAnotherProgramDoesNotResolve() {
        AtomicReference<Label> foreign = new AtomicReference<>();
        GuestProgram.define("first", g -> {
            Label l = g.label();
            g.bind(l);
            foreign.set(l);
        });
        assertThatThrownBy(() -> GuestProgram.define("second", g -> {
            g.bind(g.label());
            g.jump(foreign.get());
        })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("never bound");
    }

    @Test
    void rawProgramsAreValidatedToo() {
        assertThatThrownBy(() -> GuestProgram.of("ucall", 0, List.of(new Insn.Ucall(1)), List.of(UcallSite.done())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ucall site 1");
        assertThatThrownBy(() -> GuestProgram.of("neg", 0, List.of(new Insn.Ucall(-1)), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> GuestProgram.of("div", 0,
                List.of(new Insn.AluImm(AluOp.UREM, Reg.of(0), 0)), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("literal 0");
        assertThatThrownBy(() -> GuestProgram.of("args", 7, List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argCount");
        assertThatThrownBy(() -> GuestProgram.of(" ", 0, List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        List<Insn> withNull = new ArrayList<>();
        withNull.add(null);
        assertThatThrownBy(() -> GuestProgram.of("null", 0, withNull, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
    }

    @Test
    void instructionsRejectMissingOperands() {
        assertThatThrownBy(() -> new Insn.Mov(Reg.of(0), null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Insn.Branch(null, Reg.of(0), Reg.of(1), null))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void aHaltIsAppendedUnlessTheProgramEndsWithOne() {
        assertThat(GuestProgram.define("empty", g -> { }).instructions()).containsExactly(new Insn.Halt());
        assertThat(GuestProgram.define("halted", GuestBuilder::halt).instructions()).containsExactly(new Insn.Halt());
        assertThat(GuestProgram.define("paused", GuestBuilder::pause).instructions())
                .containsExactly(new Insn.Pause(), new Insn.Halt());
    }

    @Test
    void programIsImmutable() {
        GuestProgram p = GuestProgram.define("p", g -> g.sync(1));
        assertThatThrownBy(() -> p.instructions().add(new Insn.Pause()))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> p.ucallSites().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void listingShowsLabelsInstructionsAndUcalls() {
        GuestProgram p = GuestProgram.define("listed", g -> {
            Reg a = g.arg(0);
            g.loop(() -> g.printf("a=%lx", a));
        });
        assertThat(p.listing())
                .contains("listed (args: 1)")
                .contains("L0:")
                .contains("PRINTF \"a=%lx\"[r0]")
                .contains("Jump[target=L0]");
        assertThat(p.toString()).contains("listed");
    }

    @Test
    void bindIndexOfAnUnknownLabelFails() {
        AtomicReference<Label> other = new AtomicReference<>();
        GuestProgram.define("other", g -> {
            Label l = g.label();
            g.bind(l);
            other.set(l);
        });
        GuestProgram p = GuestProgram.define("p", g -> g.pause());
        assertThatThrownBy(() -> p.bindIndex(other.get())).isInstanceOf(IllegalArgumentException.class);
    }
}
