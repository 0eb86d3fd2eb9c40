// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * memslot_perf_test's command line in-process: the C options and help structure, bad input as a usage error
 * (exit 2, the error and the C usage line) before anything runs, and the C result lines' number formats.
 */
class MemslotPerfCliTest {
    static final String USAGE = "usage: memslot_perf_test [-h] [-v] [-d] [-s slots] [-f first_test] [-e last_test]"
            + " [-l test_length] [-r run_count]";

    @Test
    void helpHasTheCStructureAndTheTestList() {
        CliRun r = CliRun.of("memslot_perf_test", "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("Usage: memslot_perf_test [-h] [-v] [-d] [-s slots] [-f first_test]")
                .contains("-v ", "-d ", "-q ", "-s=slots", "-f=first_test", "-e=last_test", "-l=test_length",
                        "-r=run_count", "currently: -1", "currently: 5", "--backend", "--seed", "--json")
                .contains("Available tests:\n0: map\n1: unmap\n2: unmap chunked\n3: move active area\n"
                        + "4: move inactive area\n5: RW");
    }

    /** Each bad value, and the part of the error that must name it. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "-s 1|Slot count cap must be larger than 1 or -1 for no cap",
        "-s 0|Slot count cap must be larger than 1 or -1 for no cap",
        "-s -2|Slot count cap must be larger than 1 or -1 for no cap",
        "-s many|strtol(\"many\")",
        "-f -1|First test must be non-negative",
        "-e 6|Last test to run has to be non-negative and less than 6",
        "-e -1|Last test must be non-negative",
        "-f 4 -e 3|First test to run cannot be greater than the last test to run",
        "-f 6|First test to run cannot be greater than the last test to run",
        "-l -1|Test length must be non-negative",
        "-r 0|Runs per test must be greater than 0",
        "-r x|Runs per test: strtol(\"x\")",
        "-z|Unknown option: '-z'",
    })
    void badInputIsTheErrorAndTheCUsageLineExit2(String args, String named) {
        CliRun.of("memslot_perf_test", args).assertUsageError(List.of(USAGE), named);
    }

    @Test
    void timespecsPrintAsTheCDoes() {
        assertThat(MemslotPerfTest.ts(0)).isEqualTo("0.000000000s");
        assertThat(MemslotPerfTest.ts(1_000_000_007L)).isEqualTo("1.000000007s");
        assertThat(MemslotPerfTest.ts(12_345_678_901L)).isEqualTo("12.345678901s");
    }

    /** get_max_slots() with 4 KiB pages: the most slots that each get a page, plus slot 0. */
    @Test
    void maxSlotsIsWhatTheCPrints() {
        assertThat(MemslotPerfTest.getMaxSlots(8208, 32763)).isEqualTo(8209);
        assertThat(MemslotPerfTest.getMaxSlots(8208, 100)).isEqualTo(100);
    }

    @Test
    void minusOneMeansNoCap() {
        CliRun r = CliRun.of("memslot_perf_test", "-s", "-1", "-l", "0", "-f", "5");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Testing RW performance with 1 runs, 0 seconds each",
                "No full loops done - too short test time or system too loaded?");
    }
}
