// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/**
 * One in-process run of selftests.jar's command line, as the CLI tests make it: its exit code and everything it
 * wrote. System.out and System.err are taken too, since the tests print there themselves ("Random seed: ...",
 * GuestLog): an empty {@code out} means nothing ran.
 */
record CliRun(int exit, String out, String err) {
    static CliRun of(String... args) {
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
            return new CliRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    /** {@code test} followed by the words of {@code line}. */
    static CliRun of(String test, String line) {
        List<String> argv = new ArrayList<>(List.of(test));
        argv.addAll(List.of(line.trim().split(" +")));
        return of(argv.toArray(String[]::new));
    }

    /**
     * A usage error given before any work: exit 2, then "error: ..." naming every {@code problem}, then the usage
     * lines ({@code usage} exactly, or one line starting "usage: " if it is empty), and nothing on stdout.
     */
    CliRun assertUsageError(List<String> usage, String... problem) {
        assertThat(exit).as("a usage error (exit 2) naming %s, before any work; got stdout:%n%s%nstderr:%n%s",
                Arrays.toString(problem), out, err).isEqualTo(Usage.EXIT_USAGE);
        List<String> lines = err.lines().toList();
        assertThat(lines).as("stderr: the error, then the usage line(s)%n%s", err).hasSize(1 + Math.max(1, usage.size()));
        assertThat(lines.get(0)).startsWith("error: ").contains(problem);
        if (usage.isEmpty()) {
            assertThat(lines.get(1)).startsWith("usage: ");
        } else {
            assertThat(lines.subList(1, lines.size())).isEqualTo(usage);
        }
        assertThat(out).as("nothing ran before the error").isEmpty();
        return this;
    }
}
