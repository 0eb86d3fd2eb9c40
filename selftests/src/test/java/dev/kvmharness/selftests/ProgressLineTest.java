// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.RunProgress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The terminal's progress line: silent for short runs, counts for long ones, erased before the test's output. */
class ProgressLineTest {
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final AtomicLong wall = new AtomicLong(1_000);

    private ProgressLine line(RunProgress.Snapshot s) {
        return new ProgressLine("demand_paging_test", err, wall::get, () -> s);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void nothingIsShownDuringTheFirstTwoSeconds() {
        ProgressLine p = line(new RunProgress.Snapshot(10, 8, 0));
        wall.addAndGet(ProgressLine.SHOW_AFTER_NS - 1);
        p.tick();
        p.close();
        assertThat(err()).as("a short run must print no progress at all").isEmpty();
    }

    @Test
    void aLongRunShowsPagesAndVcpusAndIsErasedAtTheEnd() {
        ProgressLine p = line(new RunProgress.Snapshot(3_145_728, 8, 5));
        wall.addAndGet(12_300_000_000L);
        p.tick();
        assertThat(err()).isEqualTo("\r\033[K[demand_paging_test 12 s] 3145728 pages faulted, 5/8 vCPUs done");
        p.close();
        assertThat(err()).endsWith("\r\033[K");
    }

    @Test
    void withoutAPageCountOnlyTheVcpusAreShown() {
        assertThat(line(null).render(3_000_000_000L, new RunProgress.Snapshot(-1, 4, 1)))
                .isEqualTo("[demand_paging_test 3 s] 1/4 vCPUs done");
    }

    @Test
    void notOnATerminalNothingIsPrintedAndStdoutIsUntouched() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = new PrintStream(out, true, StandardCharsets.UTF_8);
        try (ProgressLine p = ProgressLine.start("t", err, false)) {
            assertThat(p.guard(stdout)).isSameAs(stdout);
        }
        assertThat(err()).isEmpty();
    }
}
