// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the packaged CLI exactly as a user does ({@code java -jar selftests/target/selftests.jar ...}), for the
 * integration tests that run after {@code package}.
 */
final class SelftestsJar {
    static final Path JAR = Path.of("target", "selftests.jar");
    private static final String CHECK_MEMOS = "kvmharness.sim.checkMemos";

    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private SelftestsJar() {
    }

    static Result run(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        return run(timeoutSeconds, new String[0], args);
    }

    /** As {@link #run(long, String...)} with JVM options before {@code -jar}. */
    static Result run(long timeoutSeconds, String[] jvmOptions, String... args) throws IOException, InterruptedException {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " missing: the integration tests run after 'mvn package'");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        if (Boolean.getBoolean(CHECK_MEMOS)) {
            // the simulator's memos are checked in the packaged CLI's runs too (mmu-sim's MemoCheck)
            cmd.add("-D" + CHECK_MEMOS + "=true");
        }
        cmd.addAll(List.of(jvmOptions));
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("selftests-out", ".txt");
        Path err = Files.createTempFile("selftests-err", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("selftests.jar " + String.join(" ", args) + " did not finish in " + timeoutSeconds
                        + " s; output so far:\n" + Files.readString(out) + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
