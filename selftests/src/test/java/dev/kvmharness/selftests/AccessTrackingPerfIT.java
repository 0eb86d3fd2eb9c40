// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.kvm.Kvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * access_tracking_perf_test through the packaged CLI, one list of configurations on both backends. On the simulator
 * each run passes with the C test's lines, in the C order, and no page still idle after the guest touched it; on
 * /dev/kvm a host without idle page tracking (the development host) skips exactly as the C test does, and a host
 * with it runs the same checks. What only the simulator shows is {@link AccessTrackingPerfSimIT}.
 */
class AccessTrackingPerfIT {
    static final String TEST = "access_tracking_perf_test";
    /** pr_info("%-30s: %ld.%09lds\n", description, ...) of run_iteration(), in run_test()'s order. */
    static final List<String> PHASES = List.of("Populating memory", "Writing to populated memory",
            "Reading from populated memory", "Mark memory idle", "Writing to idle memory", "Mark memory idle",
            "Reading from idle memory");
    static final String SKIP_LINE = "1..0 # SKIP - CONFIG_IDLE_PAGE_TRACKING is not enabled\n";
    private static final Path BITMAP = Path.of("/sys/kernel/mm/page_idle/bitmap");

    static final List<String> CONFIGS = List.of(
            "-b 64M",
            "-v 4 -b 32M",
            "-o -v 2 -b 32M",
            "-s anonymous_thp -b 64M",
            "-s anonymous_hugetlb -b 64M",
            "-s shmem -b 64M",
            "-m 9 -b 48M");

    static Stream<Arguments> everyConfigOnEveryBackend() {
        return Stream.of("sim", "kvm").flatMap(b -> CONFIGS.stream().map(c -> Arguments.of(b, c)));
    }

    /** The phase lines in order, each "%-30s: s.nnnnnnnnns"; returns each phase's seconds. */
    static double[] phaseSeconds(String out) {
        StringBuilder re = new StringBuilder("\n\n");
        for (String phase : PHASES) {
            re.append(Pattern.quote(String.format("%-30s: ", phase))).append("(\\d+)\\.(\\d{9})s\n");
        }
        Matcher m = Pattern.compile(re.toString()).matcher(out);
        assertThat(m.find()).as("a blank line, then the seven phase lines in run_test()'s order, in:\n%s", out).isTrue();
        double[] s = new double[PHASES.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = Long.parseLong(m.group(2 * i + 1)) + Long.parseLong(m.group(2 * i + 2)) / 1e9;
        }
        return s;
    }

    /** Runs {@code options} on {@code backend} with --json; checks exit 0 and the C lines; returns the report. */
    static JsonNode runAndCheck(String backend, String options, Path dir) throws Exception {
        Path json = dir.resolve("report.json");
        String[] args = (TEST + " --backend " + backend + " " + options + " --json " + json).split(" ");
        SelftestsJar.Result r = SelftestsJar.run(300, args);
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).containsPattern("^Random seed: 0x[0-9a-f]+\n")
                .contains("Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages\n")
                .containsPattern("guest physical test memory: \\[0x[0-9a-f]+, 0x[0-9a-f]+\\)\n")
                .doesNotContain("WARNING");
        for (double t : phaseSeconds(r.out())) {
            assertThat(t).as("a phase's time").isPositive();
        }
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        assertThat(root.get("result").asText()).isEqualTo("pass");
        for (String key : List.of("populate_ns", "write_populated_ns", "read_populated_ns", "mark_idle_1_ns", "write_idle_ns",
                "mark_idle_2_ns", "read_idle_ns")) {
            assertThat(root.at("/timings/" + key).asLong()).as("timing %s", key).isPositive();
        }
        assertThat(root.at("/rates/no_pfn_pages").asLong()).isZero();
        return root;
    }

    /** A kvm run here: the C test's skip where page_idle is missing, otherwise a run like the simulator's. */
    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("everyConfigOnEveryBackend")
    void passesWithTheCOutputLinesOrSkipsWithoutPageIdle(String backend, String options, @TempDir Path dir) throws Exception {
        if (backend.equals("kvm")) {
            Optional<String> reason = Kvm.unavailableReason();
            Assumptions.assumeTrue(reason.isEmpty(), () -> "KVM unavailable: " + reason.orElseThrow());
            if (!Files.isWritable(BITMAP)) {
                SelftestsJar.Result r = SelftestsJar.run(120, (TEST + " --backend kvm " + options).split(" "));
                assertThat(r.exit()).as("kselftest skip; output:\n%s", r.all()).isEqualTo(4);
                assertThat(r.out()).endsWith(SKIP_LINE).doesNotContain("Testing guest mode");
                return;
            }
        }
        JsonNode root = runAndCheck(backend, options, dir);
        if (backend.equals("sim")) {
            assertThat(root.at("/rates/still_idle_pages_mark_2").asLong())
                    .as("pages still idle after the guest wrote them: KVM's SPTE Accessed bits must reach page_idle")
                    .isZero();
        }
    }

    /**
     * On this host (no CONFIG_IDLE_PAGE_TRACKING) the kvm run is the C binary's output: the seed line, the backend
     * line (the port's one extra line), the skip; exit 4; and --json says skip with the reason.
     */
    @Test
    void withoutPageIdleTheKvmRunSkipsWithTheCReason(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Kvm.unavailableReason().isEmpty(), "KVM unavailable");
        Assumptions.assumeFalse(Files.exists(BITMAP), "this host has idle page tracking");
        Path json = dir.resolve("skip.json");
        SelftestsJar.Result r = SelftestsJar.run(120, TEST, "--backend", "kvm", "--json", json.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(4);
        assertThat(r.out()).matches("Random seed: 0x6b8b4567\nBackend: kvm \\(/dev/kvm, Linux [^)]+\\): times are wall-clock\n"
                + Pattern.quote(SKIP_LINE));
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("result").asText()).isEqualTo("skip");
        assertThat(root.get("exit_code").asInt()).isEqualTo(4);
    }

    @Test
    void helpIsTheCUsageAndExit0() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, TEST, "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: access_tracking_perf_test [-h] [-m mode] [-b vcpu_bytes] [-v vcpus] [-o]")
                .contains("-b=vcpu_bytes", "-v=vcpus", "-o", "-s=mem_type", "-m=mode", "--backend", "--json");
    }

    @Test
    void badInputIsAUsageErrorBeforeAnythingRuns() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, TEST, "-v", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: ").contains("usage: access_tracking_perf_test [-h]");
        assertThat(r.out()).doesNotContain("Random seed");
    }
}
