// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.junit.RequiresKvm;
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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * demand_paging_test through the packaged CLI in the configurations the C test supports, one list run on both
 * backends ({@code sim}, and {@code kvm}, which is skipped with the reason where /dev/kvm is unusable). Each run
 * must print the C test's lines and handle exactly the pages its userfaultfd setup implies. What only the
 * simulator can show (same seed same JSON, mmu_lock policies, cost models) is {@link DemandPagingSimIT}.
 */
class DemandPagingIT {
    private static final Pattern OVERALL = Pattern.compile("Overall demand paging rate:\t(\\d+\\.\\d{6}) pgs/sec\n");
    private static final Pattern TOTAL = Pattern.compile("Total guest execution time:\t(\\d+)\\.(\\d{9})s\n");
    private static final List<String> BACKENDS = List.of("sim", "kvm");

    /**
     * One configuration and the pages its userfaultfd readers must handle: each page of the test memory once per
     * vCPU region, in the backing's page size (2 MiB for hugetlb, 1 GiB for hugetlb_1gb), none without -u. With
     * -o the vCPUs share one region and may both fault a page before it is resolved, so up to once per vCPU.
     *
     * @param options the demand_paging_test options
     * @param minUffdPages the fewest pages the uffd readers may report
     * @param maxUffdPages the most pages the uffd readers may report
     */
    record Config(String options, long minUffdPages, long maxUffdPages) {
        static Config of(String options, long uffdPages) {
            return new Config(options, uffdPages, uffdPages);
        }

        @Override
        public String toString() {
            return options;
        }
    }

    static final List<Config> CONFIGS = List.of(
            Config.of("-b 64M", 0),
            Config.of("-u MISSING -b 16M", 4096),
            Config.of("-v 4 -b 16M", 0),
            Config.of("-s shmem -u MINOR -b 16M", 4096),
            Config.of("-s shmem -u MISSING -b 8M", 2048),
            Config.of("-u MISSING -a -r 3 -v 2 -b 8M", 2 * 2048),
            new Config("-u MISSING -o -v 2 -b 8M", 2048, 2 * 2048),
            Config.of("-u MISSING -d 50 -b 4M", 1024),
            Config.of("-s anonymous_thp -b 64M", 0),
            Config.of("-s anonymous_hugetlb -u MISSING -b 32M", 16),
            Config.of("-s anonymous_hugetlb_1gb -u MISSING -b 1G", 1),
            Config.of("-s shared_hugetlb -u MINOR -b 32M", 16),
            Config.of("-m 9 -m 9 -c 0,1 -b 16M", 0));

    static Stream<Arguments> everyConfigOnEveryBackend() {
        return BACKENDS.stream().flatMap(b -> CONFIGS.stream().map(c -> Arguments.of(b, c)));
    }

    /** Skips (aborts with the reason) a kvm run where /dev/kvm is missing or unusable, as @RequiresKvm does. */
    static void assumeBackendAvailable(String backend) {
        if (backend.equals("kvm")) {
            Optional<String> reason = Kvm.unavailableReason();
            Assumptions.assumeTrue(reason.isEmpty(), () -> "KVM unavailable: " + reason.orElseThrow());
        }
    }

    /**
     * Runs {@code config} on {@code backend} with {@code --json} into {@code dir}: exit 0, the C test's output
     * lines, and {@code rates.uffd_pages_handled} within the config's bounds. Returns the JSON report.
     */
    static JsonNode runAndCheck(String backend, Config config, Path dir) throws Exception {
        Path json = dir.resolve("report.json");
        String[] args = ("demand_paging_test --backend " + backend + " " + config.options() + " --json " + json).split(" ");
        SelftestsJar.Result r = SelftestsJar.run(300, args);
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).containsPattern("^Random seed: 0x[0-9a-f]+\n")
                .contains("Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages\n")
                .containsPattern("guest physical test memory: \\[0x[0-9a-f]+, 0x[0-9a-f]+\\)\n")
                .contains("Finished creating vCPUs and starting uffd threads\n", "Started all vCPUs\n",
                        "All vCPU threads joined\n")
                .containsPattern("Per-vcpu demand paging rate:\t\\d+\\.\\d{6} pgs/sec/vcpu\n");
        Matcher total = TOTAL.matcher(r.out());
        assertThat(total.find()).as("'Total guest execution time' line in:\n%s", r.out()).isTrue();
        Matcher overall = OVERALL.matcher(r.out());
        assertThat(overall.find()).as("'Overall demand paging rate' line in:\n%s", r.out()).isTrue();
        assertThat(Double.parseDouble(overall.group(1))).isPositive();
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        assertThat(root.get("backend").asText()).isEqualTo(backend);
        assertThat(root.at("/rates/uffd_pages_handled").asLong())
                .as("pages the userfaultfd readers handled for '%s' on %s", config.options(), backend)
                .isBetween(config.minUffdPages(), config.maxUffdPages());
        return root;
    }

    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("everyConfigOnEveryBackend")
    void passesWithTheCOutputLines(String backend, Config config, @TempDir Path dir) throws Exception {
        assumeBackendAvailable(backend);
        runAndCheck(backend, config, dir);
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"sim", "kvm"})
    void jsonReportsResultRatesAndStatsByKvmName(String backend, @TempDir Path dir) throws Exception {
        assumeBackendAvailable(backend);
        Path json = dir.resolve("out.json");
        SelftestsJar.Result r = SelftestsJar.run(120, "demand_paging_test", "--backend", backend, "-u", "MISSING", "-b", "16M",
                "--seed", "7", "--json", json.toString(), "--stats");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).startsWith("Random seed: 0x7\n").contains("Stats deltas (KVM binary stats, non-zero):");
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        assertThat(root.get("test").asText()).isEqualTo("demand_paging_test");
        assertThat(root.get("backend").asText()).isEqualTo(backend);
        assertThat(root.get("result").asText()).isEqualTo("pass");
        assertThat(root.get("seed").asLong()).isEqualTo(7);
        assertThat(root.at("/options/uffd_mode").asText()).isEqualTo("MISSING");
        assertThat(root.at("/options/guest_percpu_mem_size").asLong()).isEqualTo(16L << 20);
        assertThat(root.at("/rates/overall_pgs_per_sec").asDouble()).isPositive();
        // 16 MiB of 4K pages, each faulted in once through userfaultfd.
        assertThat(root.at("/rates/uffd_pages_handled").asLong()).isEqualTo(4096);
        assertThat(root.at("/timings/total_guest_execution_ns").asLong()).isPositive();
        assertThat(root.at("/latencies/uffd_page_in_ns/count").asLong()).isEqualTo(4096);
        assertThat(root.at("/latencies/uffd_page_in_ns/p50").asLong()).isPositive()
                .isLessThanOrEqualTo(root.at("/latencies/uffd_page_in_ns/p99").asLong());
        // Which counters move per fault depends on the host's MMU (pf_taken with TDP; this PVM host counts
        // insn_emulation and mmu_pte_write and handles some faults without an exit), so only check the run
        // exited to the host at all and that the vCPU stats are there by KVM name.
        assertThat(root.at("/stats/vcpu/exits").asLong()).isPositive();
        assertThat(root.at("/stats/vcpu").has("pf_taken")).isTrue();
        assertThat(root.at("/stats/vm").has("remote_tlb_flush")).isTrue();
        if (backend.equals("kvm")) {
            // the jar's own JNI shim where the build had gcc (kvmharness.jni.built), JNA otherwise
            assertThat(root.at("/backend_report/native_calls").asText())
                    .startsWith(Boolean.getBoolean("kvmharness.jni.built") ? "JNI" : "JNA (");
        }
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"sim", "kvm"})
    void minorModeOnPrivateMemoryFailsLikeTheCTest(String backend) throws Exception {
        assumeBackendAvailable(backend);
        SelftestsJar.Result r = SelftestsJar.run(60, "demand_paging_test", "--backend", backend, "-u", "MINOR", "-b", "4M");
        assertThat(r.exit()).isEqualTo(254);
        assertThat(r.err()).contains("==== Test Assertion Failure ====")
                .contains("userfaultfd MINOR mode requires shared memory; pick a different -s");
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"sim", "kvm"})
    void tooManyVcpusIsAUsageErrorBeforeTheRun(String backend) throws Exception {
        assumeBackendAvailable(backend);
        SelftestsJar.Result r = SelftestsJar.run(60, "demand_paging_test", "--backend", backend, "-v", "100000", "-b", "4M");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid number of vcpus 100000, must be between 1 and")
                .contains("(KVM_CAP_MAX_VCPUS of the " + backend + " backend)").contains("usage: selftests.jar demand_paging_test");
        assertThat(r.out()).doesNotContain("Random seed");
    }

    /** A device node that is not KVM fails its first ioctl with ENOTTY, and the failure says what that means. */
    @Test
    void aKvmDeviceThatIsNotKvmIsNamedAsSuch() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, new String[] {"-Dkvmharness.dev.kvm=/dev/null"},
                "demand_paging_test", "--backend", "kvm", "-b", "4M");
        assertThat(r.exit()).as(r.all()).isEqualTo(254);
        assertThat(r.err()).contains("/dev/null is not a KVM device: KVM_GET_API_VERSION failed: ENOTTY");
    }

    @Test
    @RequiresKvm
    void withoutKvmTheTestSkipsWithTheReason() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, new String[] {"-Dkvmharness.dev.kvm=/dev/no-kvm-here"},
                "demand_paging_test", "--backend", "kvm", "-b", "4M");
        assertThat(r.exit()).as(r.all()).isEqualTo(4);
        assertThat(r.out()).contains("1..0 # SKIP /dev/no-kvm-here not present");
    }
}
