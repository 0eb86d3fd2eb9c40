// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * The CLI as {@link Main} builds it, with {@code dirty_log_perf_test} among its tests whether or not {@link Main}
 * lists it yet, so the port's tests run it the way a user does: {@link #run} starts the packaged jar's classes
 * in a JVM of their own ({@code java -cp selftests.jar:test-classes DirtyLogPerfCli dirty_log_perf_test ...}).
 * Once {@link Main} registers the port this adds nothing.
 */
final class DirtyLogPerfCli {
    private static final String CHECK_MEMOS = "kvmharness.sim.checkMemos";

    private DirtyLogPerfCli() {
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** {@link Main#commandLine()}, plus the port and the same bad-input handling for it. */
    static CommandLine commandLine() {
        CommandLine cmd = Main.commandLine();
        if (!cmd.getSubcommands().containsKey("dirty_log_perf_test")) {
            cmd.addSubcommand(new DirtyLogPerfTest());
            cmd.setParameterExceptionHandler((ex, args) -> Usage.error(ex.getCommandLine(), Main.message(ex)));
        }
        return cmd;
    }

    /** Runs {@code args} (the test name first) in a fresh JVM on the packaged jar; fails after the timeout. */
    static SelftestsJar.Result run(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        if (!Files.exists(SelftestsJar.JAR)) {
            throw new IllegalStateException(SelftestsJar.JAR.toAbsolutePath() + " missing: the integration tests run after 'mvn package'");
        }
        Path testClasses;
        try {
            testClasses = Path.of(DirtyLogPerfCli.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("where are the test classes?", e);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        if (Boolean.getBoolean(CHECK_MEMOS)) {
            cmd.add("-D" + CHECK_MEMOS + "=true");
        }
        cmd.add("-cp");
        cmd.add(SelftestsJar.JAR + java.io.File.pathSeparator + testClasses);
        cmd.add(DirtyLogPerfCli.class.getName());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("dirty-log-out", ".txt");
        Path err = Files.createTempFile("dirty-log-err", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", args) + " did not finish in " + timeoutSeconds + " s; output so far:\n"
                        + Files.readString(out) + Files.readString(err));
            }
            return new SelftestsJar.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
