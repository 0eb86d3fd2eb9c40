// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * dirty_log_perf_test's command line in-process: the C options, and bad input as a usage error (exit 2, the error,
 * the C test's usage line) before anything runs, so nothing on stdout.
 */
class DirtyLogPerfCliTest {
    static final String USAGE = "usage: dirty_log_perf_test [-h] [-a] [-i iterations] [-p offset] [-g] [-m mode] [-n]"
            + " [-b vcpu bytes] [-v vcpus] [-o] [-r random seed ] [-s mem type][-x memslots] [-w percentage]"
            + " [-c physical cpus to run test on]";

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            CommandLine cmd = Main.commandLine();
            List<CommandLine> all = new ArrayList<>(cmd.getSubcommands().values());
            all.add(cmd);
            for (CommandLine c : all) {
                c.setOut(new PrintWriter(new OutputStreamWriter(o, StandardCharsets.UTF_8), true));
                c.setErr(new PrintWriter(new OutputStreamWriter(e, StandardCharsets.UTF_8), true));
            }
            int exit = cmd.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    @Test
    void helpListsEveryCOptionAndTheCommonOnes() {
        Run r = run("dirty_log_perf_test", "-h");
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
        List<String> argv = new ArrayList<>(List.of("dirty_log_perf_test"));
        argv.addAll(List.of(args.split(" ")));
        Run r = run(argv.toArray(String[]::new));
        assertThat(r.exit()).as("exit of %s; stderr:\n%s", args, r.err()).isEqualTo(2);
        List<String> lines = r.err().lines().toList();
        assertThat(lines).as("stderr of %s", args).hasSize(2);
        assertThat(lines.get(0)).startsWith("error: ").contains(named);
        assertThat(lines.get(1)).isEqualTo(USAGE);
        assertThat(r.out()).as("nothing ran").isEmpty();
    }
}
