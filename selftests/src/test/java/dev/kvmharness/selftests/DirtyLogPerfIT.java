// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * dirty_log_perf_test through the packaged CLI, one list of configurations run on both backends ({@code sim}, and
 * {@code kvm}, skipped with the reason where /dev/kvm is unusable): each must pass with exactly the C test's output
 * lines, and each iteration's KVM_GET_DIRTY_LOG must report exactly the pages the guest wrote
 * ({@link MemstressAccessModel}). What only the simulator shows is {@link DirtyLogPerfSimIT}.
 */
class DirtyLogPerfIT {
    private static final String T = "\\d+\\.\\d{9}s";
    private static final List<String> BACKENDS = List.of("sim", "kvm");

    static final List<String> CONFIGS = List.of(
            "-b 64M -i 3",
            "-v 4 -b 64M -i 3 -x 2 -w 50 -a",
            "-g -b 16M",
            "-e -b 16M",
            "-s anonymous_hugetlb -b 64M",
            "-s anonymous_thp -b 64M",
            "-o -v 2 -b 16M -w 30 -i 3",
            "-r 7 -w 30 -a -b 16M -i 4 -m 9 -p 0x1000",
            "-c 0,1 -b 16M",
            "-s shmem -x 4 -v 2 -b 16M -g");

    static Stream<Arguments> everyConfigOnEveryBackend() {
        return BACKENDS.stream().flatMap(b -> CONFIGS.stream().map(c -> Arguments.of(b, c)));
    }

    /**
     * The C test's stdout, line by line, as patterns: kvm_selftest_init()'s seed, the port's Backend line, then
     * main() and run_test(); the clear lines only with manual protect.
     */
    static List<String> expectedLines(long seed, long guestSeed, int iterations, boolean manual) {
        List<String> l = new ArrayList<>();
        l.add("Random seed: 0x" + Long.toHexString(seed));
        l.add("Backend: .*");
        l.add("Test iterations: " + iterations);
        l.add("Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages");
        if (guestSeed != seed) {
            l.add("Random seed: 0x" + Long.toHexString(guestSeed));
        }
        l.add("guest physical test memory: \\[0x[0-9a-f]+, 0x[0-9a-f]+\\)");
        l.add("Populate memory time: " + T);
        l.add("Enabling dirty logging time: " + T);
        l.add("");
        for (int i = 1; i <= iterations; i++) {
            l.add("Iteration " + i + " dirty memory time: " + T);
            l.add("Iteration " + i + " get dirty log time: " + T);
            if (manual) {
                l.add("Iteration " + i + " clear dirty log time: " + T);
            }
        }
        l.add("Disabling dirty logging time: " + T);
        l.add("Get dirty log over " + iterations + " iterations took " + T + "\\. \\(Avg " + T + "/iteration\\)");
        if (manual) {
            l.add("Clear dirty log over " + iterations + " iterations took " + T + "\\. \\(Avg " + T + "/iteration\\)");
        }
        return l;
    }

    static void assertLines(String out, List<String> patterns) {
        List<String> lines = out.lines().toList();
        for (int i = 0; i < Math.min(lines.size(), patterns.size()); i++) {
            assertThat(lines.get(i)).as("line %d of:\n%s", i + 1, out).matches(patterns.get(i));
        }
        assertThat(lines).as("stdout:\n%s", out).hasSameSizeAs(patterns);
    }

    /**
     * Runs {@code options} on {@code backend} with --json, checks exit 0, the C lines, the options as understood,
     * and the dirty pages of every iteration against the guest's own choice of pages; returns the report.
     */
    static JsonNode runAndCheck(String backend, String options, Path dir) throws Exception {
        Path json = dir.resolve("report.json");
        List<String> args = new ArrayList<>(List.of("dirty_log_perf_test", "--backend", backend));
        List<String> given = options.isBlank() ? List.of() : List.of(options.split(" "));
        args.addAll(given);
        args.addAll(List.of("--json", json.toString()));
        SelftestsJar.Result r = SelftestsJar.run(300, args.toArray(String[]::new));
        assertThat(r.exit()).as("exit code of %s on %s; output:\n%s", options, backend, r.all()).isZero();
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        JsonNode o = root.get("options");
        int iterations = o.get("iterations").asInt();
        boolean manual = o.get("dirty_log_manual_caps").asLong() != 0;
        assertThat(manual).as("manual protect unless -g").isEqualTo(!given.contains("-g"));
        assertLines(r.out(), expectedLines(root.get("seed").asLong(), o.get("guest_random_seed").asLong(), iterations, manual));

        int vcpus = o.get("vcpus").asInt();
        long pagesPerVcpu = o.get("guest_percpu_mem_size").asLong() / 4096;
        long total = vcpus * pagesPerVcpu;
        List<BitSet> written = MemstressAccessModel.writtenPerPass(vcpus, pagesPerVcpu,
                o.get("partition_vcpu_memory_access").asBoolean(), o.get("write_percent").asInt(),
                o.get("random_access").asBoolean(), o.get("guest_random_seed").asLong(), iterations);
        for (int i = 1; i <= iterations; i++) {
            // With KVM_DIRTY_LOG_INITIALLY_SET the first harvest reports every page; after that, what was written.
            long expected = i == 1 && manual ? total : written.get(i).cardinality();
            assertThat(root.at("/rates/iteration_" + i + "_dirty_pages").asLong())
                    .as("pages KVM_GET_DIRTY_LOG reported dirty in iteration %d of '%s' on %s", i, options, backend)
                    .isEqualTo(expected);
            assertThat(root.at("/timings/iteration_" + i + "_dirty_memory_ns").asLong()).isPositive();
            assertThat(root.at("/timings").has("iteration_" + i + "_clear_dirty_log_ns")).isEqualTo(manual);
        }
        assertThat(root.at("/timings/populate_memory_ns").asLong()).isPositive();
        assertThat(root.at("/timings/get_dirty_log_total_ns").asLong()).isPositive();
        assertThat(root.at("/rates/pages_per_vcpu").asLong()).isEqualTo(o.get("partition_vcpu_memory_access").asBoolean()
                ? pagesPerVcpu : total);
        // Each harvest that found dirty pages (the clear with manual protect, else the get) flushes remote TLBs.
        assertThat(root.at("/stats/vm/remote_tlb_flush_requests").asLong()).isGreaterThanOrEqualTo(iterations);
        assertThat(root.at("/stats/vcpu/exits").asLong()).isPositive();
        return root;
    }

    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("everyConfigOnEveryBackend")
    void passesWithTheCLinesAndHarvestsExactlyThePagesTheGuestWrote(String backend, String options, @TempDir Path dir)
            throws Exception {
        DemandPagingIT.assumeBackendAvailable(backend);
        runAndCheck(backend, options, dir);
    }

    /** -n needs nested virtualization, which the harness lacks: a kselftest skip on either backend. */
    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"sim", "kvm"})
    void nestedSkips(String backend) throws Exception {
        DemandPagingIT.assumeBackendAvailable(backend);
        SelftestsJar.Result r = SelftestsJar.run(60, "dirty_log_perf_test", "--backend", backend, "-n", "-b", "4M");
        assertThat(r.exit()).as(r.all()).isEqualTo(4);
        assertThat(r.out()).contains("Test iterations: 2\n")
                .contains("1..0 # SKIP -n: running the vCPUs in L2 needs nested virtualization").doesNotContain("Populate");
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"sim", "kvm"})
    void badValueIsAUsageErrorBeforeTheRun(String backend) throws Exception {
        DemandPagingIT.assumeBackendAvailable(backend);
        SelftestsJar.Result r = SelftestsJar.run(60, "dirty_log_perf_test", "--backend", backend, "-i", "1");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("The test should have at least two iterations").contains(DirtyLogPerfCliTest.USAGE);
        assertThat(r.out()).isEmpty();
    }
}
