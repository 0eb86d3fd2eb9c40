// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * dirty_log_perf_test's command line in-process: the C options, and bad input as a usage error (exit 2, the error,
 * the C test's usage line) before anything runs, so nothing on stdout.
 */
class DirtyLogPerfCliTest {
    static final String USAGE = "usage: dirty_log_perf_test [-h] [-a] [-i iterations] [-p offset] [-g] [-m mode] [-n]"
            + " [-b vcpu bytes] [-v vcpus] [-o] [-r random seed ] [-s mem type][-x memslots] [-w percentage]"
            + " [-c physical cpus to run test on]";

    @Test
    void helpListsEveryCOptionAndTheCommonOnes() {
        CliRun r = CliRun.of("dirty_log_perf_test", "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("Usage: dirty_log_perf_test [-h] [-a] [-i iterations]")
                .contains("-a ", "-b=vcpu bytes", "-c=physical cpus to run test on", "-e ", "-g ", "-i=iterations", "-m=mode",
                        "-n ", "-o ", "-p=offset", "-r=random seed", "-s=mem type", "-v=vcpus", "-x=memslots", "-w=percentage",
                        "--backend", "--seed", "--json", "--stats");
    }

    /** Each bad value, and the part of the error that must name it. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "-i 1|The test should have at least two iterations",
        "-i 0|Number of iterations must be greater than 0",
        "-i two|Number of iterations: strtol(\"two\")",
        "-w 101|Write percentage must be between 0 and 100",
        "-w -1|Write percentage must be non-negative",
        "-x 0|Number of slots must be greater than 0",
        "-b 64M -x 3|Guest memory cannot be evenly divided into 3 slots",
        "-s anonymous_thp -b 64M -x 64|gives memslots of 1M, not a multiple of the 2M page size of -s anonymous_thp",
        "-r 0|Random seed must be greater than 0",
        "-p nowhere|-p 'nowhere' is not an unsigned number",
        "-b 10Q|-b '10Q'",
        "-b 6000|not a positive multiple of the 4K guest page size",
        "-v 0|Number of vCPUs must be greater than 0",
        "-s nvram|Unknown backing src type: nvram",
        "-s anonymous_hugetlb_2mb -b 1M|not a multiple of the 2M page size of -s anonymous_hugetlb_2mb",
        "-m 3|Guest mode ID 3 not supported",
        "-c 0,0,0,0|pCPU list contains trailing garbage",
        "-z|Unknown option: '-z'",
        "-v 100000|Invalid number of vcpus 100000, must be between 1 and",
        "--seed -1|--seed must be in 0..0xffffffff",
    })
    void badInputIsTheErrorAndTheCUsageLineExit2(String args, String named) {
        CliRun.of("dirty_log_perf_test", args).assertUsageError(List.of(USAGE), named);
    }
}
