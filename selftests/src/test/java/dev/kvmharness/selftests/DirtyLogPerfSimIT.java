// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dirty_log_perf_test through the packaged CLI, what only the simulator shows: the C defaults in seconds, the
 * same seed giving the same JSON, --seed and -r seeding different things, and what eager page splitting does to
 * the phases (policies). The configurations both backends run are {@link DirtyLogPerfIT}.
 */
class DirtyLogPerfSimIT {
    private static JsonNode run(Path json, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("dirty_log_perf_test"));
        args.addAll(List.of(options));
        args.addAll(List.of("--json", json.toString()));
        SelftestsJar.Result r = SelftestsJar.run(300, args.toArray(String[]::new));
        assertThat(r.exit()).as("%s:\n%s", String.join(" ", options), r.all()).isZero();
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.at("/backend_report/oracle_violations").asLong()).as("oracle violations of %s", String.join(" ", options))
                .isZero();
        return root;
    }

    /** The C defaults: one vCPU, 1 GiB, two iterations, manual protect with initially-set bitmaps. */
    @Test
    void theCDefaultsPass(@TempDir Path dir) throws Exception {
        JsonNode root = DirtyLogPerfIT.runAndCheck("sim", "", dir);
        assertThat(root.at("/rates/iteration_1_dirty_pages").asLong()).isEqualTo(1L << 18);
        assertThat(root.at("/rates/iteration_2_dirty_pages").asLong()).as("every page of 1 GiB written again").isEqualTo(1L << 18);
        // Iteration 1 writes through the SPTEs populate made writable (initially set: nothing was protected); the
        // clear after it write-protects every page, so iteration 2 takes a write fault per page.
        assertThat(root.at("/stats/vcpu/pf_fast").asLong()).isEqualTo(1L << 18);
        assertThat(root.at("/timings/iteration_2_dirty_memory_ns").asLong())
                .isGreaterThan(root.at("/timings/iteration_1_dirty_memory_ns").asLong());
    }

    @Test
    void sameSeedSameJsonBitForBit(@TempDir Path dir) throws Exception {
        String[] options = {"-v", "2", "-b", "32M", "-w", "50", "-a", "-x", "2", "-i", "3", "--seed", "7"};
        run(dir.resolve("a.json"), options);
        run(dir.resolve("b.json"), options);
        assertThat(Files.readString(dir.resolve("a.json"))).isEqualTo(Files.readString(dir.resolve("b.json")));
    }

    /** --seed seeds the simulator (and is printed first); the guests' accesses follow -r alone. */
    @Test
    void dashRSeedsTheGuestAndDashDashSeedTheSimulator(@TempDir Path dir) throws Exception {
        JsonNode a = run(dir.resolve("a.json"), "-b", "16M", "-w", "50", "-a", "-i", "3", "--seed", "1");
        JsonNode b = run(dir.resolve("b.json"), "-b", "16M", "-w", "50", "-a", "-i", "3", "--seed", "2");
        JsonNode c = run(dir.resolve("c.json"), "-b", "16M", "-w", "50", "-a", "-i", "3", "--seed", "1", "-r", "2");
        assertThat(a.get("options").get("guest_random_seed").asLong()).isEqualTo(1);
        assertThat(b.get("rates")).as("another --seed, the same guest pages").isEqualTo(a.get("rates"));
        assertThat(c.at("/rates/iteration_2_dirty_pages").asLong()).as("another -r, other guest pages")
                .isNotEqualTo(a.at("/rates/iteration_2_dirty_pages").asLong());
    }

    /**
     * Eager page splitting (kvm.eager_page_split, the 5.17 series): with -g, enabling dirty logging splits every 2M
     * page and iteration 1 only takes write-protection faults; without it enabling is cheap and iteration 1 splits
     * the huge pages in its faults.
     */
    @Test
    void eagerPageSplitMovesTheSplitIntoEnablingDirtyLogging(@TempDir Path dir) throws Exception {
        String[] base = {"-g", "-s", "anonymous_hugetlb", "-b", "64M"};
        JsonNode eager = run(dir.resolve("eager.json"), base);
        List<String> off = new ArrayList<>(List.of(base));
        off.addAll(List.of("--policy", "current,-eager_page_split"));
        JsonNode lazy = run(dir.resolve("lazy.json"), off.toArray(String[]::new));
        assertThat(eager.at("/timings/enable_dirty_logging_ns").asLong())
                .isGreaterThan(10 * lazy.at("/timings/enable_dirty_logging_ns").asLong());
        assertThat(eager.at("/timings/iteration_1_dirty_memory_ns").asLong())
                .isLessThan(lazy.at("/timings/iteration_1_dirty_memory_ns").asLong());
        assertThat(eager.at("/rates/iteration_1_dirty_pages").asLong()).isEqualTo(lazy.at("/rates/iteration_1_dirty_pages").asLong())
                .isEqualTo(16384);
    }

    /** -e: the vCPUs fault while collapsible SPTEs are zapped; huge pages come back, and the oracle finds nothing. */
    @Test
    void vcpusRunningWhileLoggingIsDisabledGetHugePagesBack(@TempDir Path dir) throws Exception {
        JsonNode root = run(dir.resolve("e.json"), "-e", "-s", "anonymous_thp", "-b", "64M", "-v", "2");
        assertThat(root.at("/options/run_vcpus_while_disabling_dirty_logging").asBoolean()).isTrue();
        assertThat(root.at("/stats/vm/pages_2m").asLong()).as("2M mappings after logging stopped").isPositive();
    }
}
