// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One round of one port on one backend, in a JVM of its own (as the suite runner runs tests: no JIT warm-up
 * or heap state carried from the other backend's run), reporting through its --json file.
 *
 * @param exitCode the child's exit code (kselftest: 0 pass, 4 skip, 2 usage error, other failures)
 * @param report the parsed --json report, or null if the child wrote none
 * @param output the child's stdout and stderr
 */
record CompareRound(int exitCode, Map<String, Object> report, String output) {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Runs {@code test args... --backend backend --json tmp extra...} and waits at most {@code timeoutSeconds}. */
    @SuppressWarnings("unchecked")
    static CompareRound run(String test, List<String> args, String backend, List<String> extra, Path workDir,
                            long timeoutSeconds) {
        try {
            Path json = Files.createTempFile(workDir, test + "-" + backend + "-", ".json");
            Files.delete(json);
            Path log = Files.createTempFile(workDir, test + "-" + backend + "-", ".log");
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("kvmharness."))
                    .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
            cmd.add("-cp");
            cmd.add(SuiteRunner.classpath());
            cmd.add(Main.class.getName());
            cmd.add(test);
            cmd.addAll(args);
            cmd.addAll(extra);
            cmd.add("--backend");
            cmd.add(backend);
            cmd.add("--json");
            cmd.add(json.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            int rc;
            if (p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                rc = p.exitValue();
            } else {
                p.destroyForcibly().waitFor();
                rc = 124;
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            Map<String, Object> report = Files.exists(json) ? MAPPER.readValue(json.toFile(), Map.class) : null;
            return new CompareRound(rc, report, out);
        } catch (IOException e) {
            throw new UncheckedIOException("running " + test + " on " + backend, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + test + " on " + backend, e);
        }
    }

    /** Removes a work directory of round files once its rounds are read (kept on failure, for the logs). */
    static void deleteWorkDir(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // Leftover temp files are harmless.
        }
    }
}
