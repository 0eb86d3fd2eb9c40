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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * memslot_modification_stress_test through the packaged CLI, one list of configurations on both backends ({@code
 * sim}, and {@code kvm}, skipped with the reason where /dev/kvm is unusable): each passes with exactly the C test's
 * output lines and reports its phases and stats. What only the simulator shows is
 * {@link MemslotModificationStressSimIT}.
 */
class MemslotModificationStressIT {
    private static final List<String> BACKENDS = List.of("sim", "kvm");

    static final List<String> CONFIGS = List.of(
            "",
            "-v 4 -i 20 -b 64M",
            "-q -b 64M",
            "-o -v 2 -b 32M",
            "-b 16M -d 10");

    static Stream<Arguments> everyConfigOnEveryBackend() {
        return BACKENDS.stream().flatMap(b -> CONFIGS.stream().map(c -> Arguments.of(b, c)));
    }

    /** The C test's stdout as patterns: the seed, the port's Backend line, memstress_create_vm(), run_test(). */
    static List<String> expectedLines(long seed, boolean quirkDisabled) {
        List<String> l = new ArrayList<>();
        l.add("Random seed: 0x" + Long.toHexString(seed));
        l.add("Backend: .*");
        l.add("Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages");
        l.add("guest physical test memory: \\[0x[0-9a-f]+, 0x[0-9a-f]+\\)");
        l.add("Memslot zap quirk " + (quirkDisabled ? "disabled" : "enabled"));
        l.add("Finished creating vCPUs");
        l.add("Started all vCPUs");
        l.add("All vCPU threads joined");
        return l;
    }

    static JsonNode runAndCheck(String backend, String options, Path dir) throws Exception {
        Path json = dir.resolve("report.json");
        List<String> args = new ArrayList<>(List.of("memslot_modification_stress_test", "--backend", backend));
        List<String> given = options.isBlank() ? List.of() : List.of(options.split(" "));
        args.addAll(given);
        args.addAll(List.of("--json", json.toString()));
        SelftestsJar.Result r = SelftestsJar.run(300, args.toArray(String[]::new));
        if (given.contains("-q") && r.exit() == 4) {
            assertThat(r.out()).contains("1..0 # SKIP - Requirement not met: kvm_check_cap(KVM_CAP_DISABLE_QUIRKS2)");
            return null;
        }
        assertThat(r.exit()).as("exit code of %s on %s; output:\n%s", options, backend, r.all()).isZero();
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        JsonNode o = root.get("options");
        assertThat(o.get("disable_slot_zap_quirk").asBoolean()).isEqualTo(given.contains("-q"));
        assertThat(o.get("partition_vcpu_memory_access").asBoolean()).isEqualTo(!given.contains("-o"));
        DirtyLogPerfIT.assertLines(r.out(), expectedLines(root.get("seed").asLong(), given.contains("-q")));
        int iterations = o.get("iterations").asInt();
        assertThat(root.at("/rates/memslot_modifications").asInt()).isEqualTo(iterations);
        assertThat(root.at("/rates/guest_passes").asLong()).as("every vCPU finishes at least its first pass")
                .isGreaterThanOrEqualTo(o.get("vcpus").asLong());
        assertThat(root.at("/timings/add_remove_memslot_ns").asLong()).isPositive();
        if (given.contains("-d")) {
            assertThat(root.at("/timings/add_remove_memslot_ns").asLong()).as("-d sleeps before every add")
                    .isGreaterThanOrEqualTo(iterations * o.get("delay_us").asLong() * 1000);
        }
        assertThat(root.at("/timings/join_vcpus_ns").asLong()).isNotNegative();
        assertThat(root.at("/stats/vcpu/exits").asLong()).isGreaterThanOrEqualTo(o.get("vcpus").asLong());
        return root;
    }

    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("everyConfigOnEveryBackend")
    void passesWithTheCLines(String backend, String options, @TempDir Path dir) throws Exception {
        DemandPagingIT.assumeBackendAvailable(backend);
        runAndCheck(backend, options, dir);
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"sim", "kvm"})
    void badValueIsAUsageErrorBeforeTheRun(String backend) throws Exception {
        DemandPagingIT.assumeBackendAvailable(backend);
        SelftestsJar.Result r = SelftestsJar.run(60, "memslot_modification_stress_test", "--backend", backend, "-i", "0");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("Number of iterations must be greater than 0")
                .contains(String.join("\n", MemslotModificationStressCliTest.USAGE));
        assertThat(r.out()).isEmpty();
    }
}
