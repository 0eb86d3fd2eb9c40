// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator gives the same answer whatever carries its threads: demand_paging_test with 8 vCPUs and with
 * userfaultfd readers, run in this JVM (Java 17, platform threads) and under Temurin 25 (virtual threads on one
 * carrier, SimThreads), writes byte-identical --json.
 */
class VirtualSimThreadsIT {
    static final Path JAVA25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

    @TempDir
    Path dir;

    @Test
    void sameJsonOnPlatformAndVirtualThreads() throws Exception {
        assumeTrue(Files.isExecutable(JAVA25), "no Temurin 25 at " + JAVA25);
        for (List<String> opts : List.of(List.of("-v", "8", "-b", "8M"), List.of("-v", "4", "-b", "4M", "-u", "MISSING"))) {
            Path here = dir.resolve("jdk17.json");
            Path there = dir.resolve("jdk25.json");
            String[] args = args(opts, here);
            int rc = Main.commandLine().execute(args);
            assertThat(rc).isZero();
            Path log = dir.resolve("jdk25.log");
            Process p = new ProcessBuilder(cmd(opts, there)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the Java 25 run ends").isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
            assertThat(Files.readString(there, StandardCharsets.UTF_8)).as("--json of %s on Java 25 (virtual threads)", opts)
                    .isEqualTo(Files.readString(here, StandardCharsets.UTF_8));
        }
    }

    private static String[] args(List<String> opts, Path json) {
        ArrayList<String> a = new ArrayList<>(List.of("demand_paging_test", "--seed", "7"));
        a.addAll(opts);
        a.addAll(List.of("--json", json.toString()));
        return a.toArray(new String[0]);
    }

    private static List<String> cmd(List<String> opts, Path json) {
        ArrayList<String> c = new ArrayList<>(List.of(JAVA25.toString(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        c.addAll(List.of(args(opts, json)));
        return c;
    }
}
