// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Ctrl-C of the suite: the TAP stream ends with the totals so far and Bail out!, and no test JVM is left. */
class SuiteInterruptIT {

    @Test
    void sigintEndsTheTapStreamWithTotalsAndBailOut() throws Exception {
        Path out = Files.createTempFile("suite-sigint", ".txt");
        Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-jar",
                SelftestsJar.JAR.toString(), "--backend", "sim")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            // The first test has passed and the second one is running.
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
                    .until(() -> Files.readString(out).contains("# selftests: kvm: max_guest_memory_test"));
            List<ProcessHandle> children = p.descendants().toList();
            assertThat(new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor()).isZero();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the suite exits on SIGINT").isTrue();
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertThat(text).contains("ok 1 selftests: kvm: demand_paging_test\n")
                    .contains("# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n")
                    .endsWith("Bail out! interrupted by a signal during selftests: kvm: max_guest_memory_test\n");
            await().atMost(Duration.ofSeconds(30)).until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }
}
