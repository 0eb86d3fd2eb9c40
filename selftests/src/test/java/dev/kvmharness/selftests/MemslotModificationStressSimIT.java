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
 * memslot_modification_stress_test through the packaged CLI, what only the simulator shows: the same seed gives
 * the same JSON, no stale translation survives a DELETE (the oracle), and -d's delays are virtual.
 */
class MemslotModificationStressSimIT {
    private static JsonNode run(Path json, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("memslot_modification_stress_test"));
        args.addAll(List.of(options));
        args.addAll(List.of("--json", json.toString()));
        SelftestsJar.Result r = SelftestsJar.run(300, args.toArray(String[]::new));
        assertThat(r.exit()).as("%s:\n%s", String.join(" ", options), r.all()).isZero();
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.at("/backend_report/oracle_violations").asLong()).as("oracle violations of %s", String.join(" ", options))
                .isZero();
        return root;
    }

    @Test
    void sameSeedSameJsonBitForBit(@TempDir Path dir) throws Exception {
        String[] options = {"-v", "4", "-b", "16M", "-i", "30", "-d", "5", "--seed", "7"};
        run(dir.resolve("a.json"), options);
        run(dir.resolve("b.json"), options);
        assertThat(Files.readString(dir.resolve("a.json"))).isEqualTo(Files.readString(dir.resolve("b.json")));
    }

    /** A second of -d costs no real time on the simulator, and the loop's virtual time includes it. */
    @Test
    void delaysAreVirtual(@TempDir Path dir) throws Exception {
        long t = System.nanoTime();
        JsonNode root = run(dir.resolve("d.json"), "-b", "4M", "-i", "10", "-d", "100000");
        assertThat(System.nanoTime() - t).isLessThan(60_000_000_000L);
        assertThat(root.at("/timings/add_remove_memslot_ns").asLong()).isGreaterThanOrEqualTo(1_000_000_000L);
    }

    /** -q under the current policy zaps only the deleted slot: fewer page faults than the quirk's zap of everything. */
    @Test
    void disablingTheQuirkKeepsTheTestMemoryMapped(@TempDir Path dir) throws Exception {
        String[] base = {"-v", "2", "-b", "16M", "-i", "50", "-d", "200", "--seed", "3"};
        JsonNode quirk = run(dir.resolve("q0.json"), base);
        List<String> q = new ArrayList<>(List.of(base));
        q.add("-q");
        JsonNode noQuirk = run(dir.resolve("q1.json"), q.toArray(String[]::new));
        assertThat(noQuirk.at("/stats/vcpu/pf_taken").asLong()).isLessThan(quirk.at("/stats/vcpu/pf_taken").asLong());
    }
}
