// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.junit.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** demand_paging_test on /dev/kvm through the packaged CLI, in the configurations the C test supports. */
@RequiresKvm
class DemandPagingIT {
    private static final Pattern OVERALL = Pattern.compile("Overall demand paging rate:\t(\\d+\\.\\d{6}) pgs/sec\n");
    private static final Pattern TOTAL = Pattern.compile("Total guest execution time:\t(\\d+)\\.(\\d{9})s\n");

    @ParameterizedTest
    @ValueSource(strings = {
        "-b 64M",
        "-u MISSING -b 64M",
        "-v 2 -b 64M",
        "-s shmem -u MINOR -b 64M",
        "-s shmem -u MISSING -b 16M",
        "-u MISSING -a -r 2 -v 2 -b 16M",
        "-u MISSING -o -v 2 -b 16M",
        "-u MISSING -d 50 -b 4M",
        "-s anonymous_thp -b 64M",
        "-s anonymous_hugetlb -u MISSING -b 32M",
        "-s anonymous_hugetlb_1gb -u MISSING -b 1G",
        "-s shared_hugetlb -u MINOR -b 32M",
        "-m 9 -m 9 -c 0,1 -b 16M",
    })
    void passesWithTheCOutputLines(String options) throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(300, ("demand_paging_test --backend kvm " + options).split(" "));
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).containsPattern("^Random seed: 0x[0-9a-f]+\n")
                .contains("Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages\n")
                .containsPattern("guest physical test memory: \\[0x[0-9a-f]+, 0x[0-9a-f]+\\)\n")
                .contains("Finished creating vCPUs and starting uffd threads\n", "Started all vCPUs\n",
                        "All vCPU threads joined\n")
                .containsPattern("Per-vcpu demand paging rate:\t\\d+\\.\\d{6} pgs/sec/vcpu\n");
        Matcher total = TOTAL.matcher(r.out());
        assertThat(total.find()).isTrue();
        Matcher overall = OVERALL.matcher(r.out());
        assertThat(overall.find()).isTrue();
        assertThat(Double.parseDouble(overall.group(1))).isPositive();
    }

    @Test
    void jsonReportsResultRatesAndStatsByKvmName(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("out.json");
        SelftestsJar.Result r = SelftestsJar.run(120, "demand_paging_test", "--backend", "kvm", "-u", "MISSING", "-b", "16M",
                "--seed", "7", "--json", json.toString(), "--stats");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).startsWith("Random seed: 0x7\n").contains("Stats deltas (KVM binary stats, non-zero):");
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        assertThat(root.get("test").asText()).isEqualTo("demand_paging_test");
        assertThat(root.get("backend").asText()).isEqualTo("kvm");
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
    }

    @Test
    void minorModeOnPrivateMemoryFailsLikeTheCTest() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, "demand_paging_test", "--backend", "kvm", "-u", "MINOR", "-b", "4M");
        assertThat(r.exit()).isEqualTo(254);
        assertThat(r.err()).contains("==== Test Assertion Failure ====")
                .contains("userfaultfd MINOR mode requires shared memory; pick a different -s");
    }

    @Test
    void withoutKvmTheTestSkipsWithTheReason() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, new String[] {"-Dkvmharness.dev.kvm=/dev/no-kvm-here"},
                "demand_paging_test", "--backend", "kvm", "-b", "4M");
        assertThat(r.exit()).as(r.all()).isEqualTo(4);
        assertThat(r.out()).contains("1..0 # SKIP /dev/no-kvm-here not present");
    }

    @Test
    void tooManyVcpusIsAnAssertionFailure() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, "demand_paging_test", "--backend", "kvm", "-v", "100000", "-b", "4M");
        assertThat(r.exit()).isEqualTo(254);
        assertThat(r.err()).contains("Invalid number of vcpus, must be between 1 and");
    }
}
