// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * memslot_perf_test on the simulator only: the same seed gives the same JSON, the oracle sees nothing wrong, and
 * too many slots for the map test prints the C's cap advice and still passes.
 */
class MemslotPerfSimIT {
    @Test
    void sameSeedSameJsonBitForBit(@TempDir Path dir) throws Exception {
        String[] opts = {"memslot_perf_test", "-s", "64", "-l", "1", "-f", "2", "-e", "3", "--seed", "7", "--json"};
        for (String name : new String[] {"a.json", "b.json"}) {
            String[] args = java.util.Arrays.copyOf(opts, opts.length + 1);
            args[opts.length] = dir.resolve(name).toString();
            SelftestsJar.Result r = SelftestsJar.run(300, args);
            assertThat(r.exit()).as(r.all()).isZero();
        }
        String a = Files.readString(dir.resolve("a.json"));
        assertThat(a).isEqualTo(Files.readString(dir.resolve("b.json")));
        JsonNode root = new ObjectMapper().readTree(a);
        assertThat(root.at("/backend_report/oracle_violations").asLong())
                .as("the oracle's first violation: %s", root.at("/backend_report/oracle_first_violation").asText())
                .isZero();
    }

    /** 8208 pages of the map test cannot fill 9000 slots: the C advice with get_max_slots()'s answer. */
    @Test
    void tooManySlotsForTheMapTestIsTheCAdvice() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(300, "memslot_perf_test", "-s", "9000", "-l", "1", "-f", "0", "-e", "0");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("Testing map performance with 1 runs, 1 seconds each",
                "Memslot count too high for this test, decrease the cap (max is 8209)");
        assertThat(r.out()).doesNotContain("Best runtime result");
    }
}
