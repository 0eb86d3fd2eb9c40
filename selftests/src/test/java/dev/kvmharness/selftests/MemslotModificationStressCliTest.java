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
 * memslot_modification_stress_test's command line in-process: the C options, and bad input as a usage error
 * (exit 2, the error, the C test's two usage lines) before anything runs.
 */
class MemslotModificationStressCliTest {
    static final List<String> USAGE = List.of("usage: memslot_modification_stress_test [-h] [-m mode] [-d delay_usec] [-q]",
            "          [-b memory] [-v vcpus] [-o] [-i iterations]");

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
        Run r = run("memslot_modification_stress_test", "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("Usage: memslot_modification_stress_test [-h] [-m mode] [-d delay_usec] [-q]")
                .contains("-b=memory", "-d=delay_usec", "-i=iterations", "-m=mode", "-o ", "-q ", "-v=vcpus",
                        "Default: 10", "--backend", "--seed", "--json", "--stats");
    }

    @Test
    void optionsAsUnderstood() {
        MemslotModificationStressTest t = new MemslotModificationStressTest();
        new CommandLine(t).parseArgs("-d", "10", "-q", "-b", "16M", "-v", "3", "-o", "-i", "20", "-m", "9");
        t.validate();
        assertThat(t.options()).containsEntry("delay_us", 10L).containsEntry("iterations", 20)
                .containsEntry("partition_vcpu_memory_access", false).containsEntry("disable_slot_zap_quirk", true)
                .containsEntry("vcpus", 3).containsEntry("guest_percpu_mem_size", 16L << 20);
        MemslotModificationStressTest d = new MemslotModificationStressTest();
        new CommandLine(d).parseArgs();
        d.validate();
        assertThat(d.options()).containsEntry("delay_us", 0L).containsEntry("iterations", 10)
                .containsEntry("partition_vcpu_memory_access", true).containsEntry("disable_slot_zap_quirk", false)
                .containsEntry("vcpus", 1).containsEntry("guest_percpu_mem_size", 1L << 30);
    }

    /** Each bad value, and the part of the error that must name it. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "-i 0|Number of iterations must be greater than 0",
        "-i ten|Number of iterations: strtol(\"ten\")",
        "-d -1|Delay must be non-negative",
        "-d soon|Delay: strtol(\"soon\")",
        "-v 0|Number of vCPUs must be greater than 0",
        "-v 100000|Invalid number of vcpus, must be between 1 and",
        "-b 10Q|-b '10Q'",
        "-b 6000|not a positive multiple of the 4K guest page size",
        "-m 3|Guest mode ID 3 not supported",
        "-x|Unknown option: '-x'",
        "--seed -1|--seed must be in 0..0xffffffff",
    })
    void badInputIsTheErrorAndTheCUsageLinesExit2(String args, String named) {
        List<String> argv = new ArrayList<>(List.of("memslot_modification_stress_test"));
        argv.addAll(List.of(args.split(" ")));
        Run r = run(argv.toArray(String[]::new));
        assertThat(r.exit()).as("exit of %s; stderr:\n%s", args, r.err()).isEqualTo(2);
        List<String> lines = r.err().lines().toList();
        assertThat(lines).as("stderr of %s", args).hasSize(3);
        assertThat(lines.get(0)).startsWith("error: ").contains(named);
        assertThat(lines.subList(1, 3)).isEqualTo(USAGE);
        assertThat(r.out()).as("nothing ran").isEmpty();
    }
}
