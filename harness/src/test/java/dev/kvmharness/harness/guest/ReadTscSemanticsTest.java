// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.guest.GuestInterpreter.Step;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Insn.ReadTsc} in the reference interpreter: the clock it is given, or the instruction count. */
class ReadTscSemanticsTest {
    /** t0 = tsc; three ALU ops; t1 = tsc; sync(t1 - t0); sync(t0). */
    private static final GuestProgram TWO_READS = GuestProgram.define("two_reads", g -> {
        Reg t0 = g.temp();
        Reg t1 = g.temp();
        Reg x = g.temp();
        g.readTsc(t0);
        g.add(x, 1);
        g.add(x, 2);
        g.add(x, 3);
        g.readTsc(t1);
        g.sub(t1, t0);
        g.sync(t1);
        g.sync(t0);
    });

    @Test
    void withoutAClockTheTscCountsInstructionsExecutedBeforeIt() {
        GuestInterpreter in = new GuestInterpreter(TWO_READS, InterpreterMemory.flat(0, new byte[8]));
        Step s = in.run(1000);
        assertThat(s.values()).containsExactly(4L); // the first ReadTsc and the three adds came in between
        assertThat(in.run(1000).values()).containsExactly(0L); // nothing ran before the first read
    }

    @Test
    void theClockIsAskedWithTheStepsOfTheCurrentRunBeforeTheRead() {
        List<Long> asked = new ArrayList<>();
        GuestClock clock = before -> {
            asked.add(before);
            return 1000 + 10 * before;
        };
        GuestInterpreter in = new GuestInterpreter(TWO_READS, InterpreterMemory.flat(0, new byte[8]), clock);
        assertThat(in.run(1000).values()).containsExactly(40L);
        assertThat(asked).containsExactly(0L, 4L);
        assertThat(in.run(1000).values()).containsExactly(1000L);
    }

    @Test
    void aReadSplitAcrossRunsSeesOnlyTheNewRunsSteps() {
        List<Long> asked = new ArrayList<>();
        GuestInterpreter in = new GuestInterpreter(TWO_READS, InterpreterMemory.flat(0, new byte[8]), before -> {
            asked.add(before);
            return before;
        });
        assertThat(in.run(2).kind()).isEqualTo(Step.Kind.OUT_OF_STEPS); // ReadTsc, add
        in.run(1000);
        assertThat(asked).containsExactly(0L, 2L); // second read: two adds, then it, in the second run
    }
}
