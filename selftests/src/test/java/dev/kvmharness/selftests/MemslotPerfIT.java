// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * memslot_perf_test through the packaged CLI with small options, on both backends ({@code kvm} skipped with the
 * reason where /dev/kvm is unusable): exit 0, exactly the C test's lines, the timings in --json.
 */
class MemslotPerfIT {
    private static final String T = "\\d+\\.\\d{9}s";
    static final String[] NAMES = {"map", "unmap", "unmap chunked", "move active area", "move inactive area", "RW"};

    static final List<String> CONFIGS = List.of(
            "-s 64 -l 1 -r 1",
            "-s 128 -l 1 -r 2 -f 1 -e 2",
            "-s 32 -l 1 -f 3 -e 5 -d",
            "-s 64 -l 1 -f 0 -e 0 -d -v");

    /** On the simulator the first config (all six tests) is left out: the other three cover them in less time. */
    static Stream<Arguments> everyConfigOnEveryBackend() {
        return Stream.of("sim", "kvm").flatMap(b -> CONFIGS.stream().skip(b.equals("sim") ? 1 : 0).map(c -> Arguments.of(b, c)));
    }

    /** The C lines for tests first..last, runs each, where every run does at least one loop. */
    static List<String> expectedLines(long seed, int first, int last, int runs, int seconds, boolean verbose, int slots) {
        List<String> l = new ArrayList<>();
        l.add("Random seed: 0x" + Long.toHexString(seed));
        l.add("Backend: .*");
        if (verbose) {
            l.add("Allowed Number of memory slots: " + slots);
        }
        for (int t = first; t <= last; t++) {
            if (t > first) {
                l.add("");
            }
            l.add("Testing " + NAMES[t] + " performance with " + runs + " runs, " + seconds + " seconds each");
            for (int r = 0; r < runs; r++) {
                if (verbose) {
                    l.add("Adding slots 1\\.\\." + (slots - 1) + ", each slot with \\d+ pages \\+ \\d+ extra pages last");
                    l.add("Launching the test VM");
                }
                l.add("Test took " + T + " for slot setup \\+ " + T + " all iterations");
                l.add("Done \\d+ iterations, avg " + T + " each");
            }
            l.add("Best runtime result was " + T + " per iteration \\(with \\d+ iterations\\)");
        }
        if (last >= 3) {
            l.add("Best slot setup time for the whole test area was " + T);
        }
        return l;
    }

    static JsonNode runAndCheck(String backend, String options, Path dir) throws Exception {
        Path json = dir.resolve("report.json");
        List<String> args = new ArrayList<>(List.of("memslot_perf_test", "--backend", backend));
        args.addAll(List.of(options.split(" ")));
        args.addAll(List.of("--json", json.toString()));
        SelftestsJar.Result r = SelftestsJar.run(300, args.toArray(String[]::new));
        assertThat(r.exit()).as("exit code of %s on %s; output:\n%s", options, backend, r.all()).isZero();
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        JsonNode o = root.get("options");
        int first = o.get("first_test").asInt();
        int last = o.get("last_test").asInt();
        DirtyLogPerfIT.assertLines(r.out(), expectedLines(root.get("seed").asLong(), first, last, o.get("runs").asInt(),
                o.get("seconds").asInt(), o.get("verbose").asBoolean(), o.get("test_slots").asInt() + 1));
        for (int t = first; t <= last; t++) {
            String k = NAMES[t].replace(' ', '_').toLowerCase(java.util.Locale.ROOT);
            assertThat(root.at("/timings/" + k + "_best_iteration_ns").asLong()).as(k).isPositive();
            assertThat(root.at("/timings/" + k + "_worst_iteration_ns").asLong())
                    .isGreaterThanOrEqualTo(root.at("/timings/" + k + "_best_iteration_ns").asLong());
            assertThat(root.at("/timings").has(k + "_best_iteration_per_page_ns")).isTrue();
            assertThat(root.at("/timings").has(k + "_best_slot_setup_per_slot_ns")).isTrue();
        }
        assertThat(root.at("/stats/vcpu/exits").asLong()).isPositive();
        return root;
    }

    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("everyConfigOnEveryBackend")
    void passesWithTheCLines(String backend, String options, @TempDir Path dir) throws Exception {
        DemandPagingIT.assumeBackendAvailable(backend);
        runAndCheck(backend, options, dir);
    }
}
