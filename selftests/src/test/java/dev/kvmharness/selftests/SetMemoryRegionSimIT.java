// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** set_memory_region_test on the simulator (the default backend) through the packaged CLI. */
class SetMemoryRegionSimIT {
    /** The C lines, in the C order, with every subtest run (the simulator offers KVM_X86_SW_PROTECTED_VM). */
    static final String[] LINES = {
        "Testing KVM_RUN with zero added memory regions\n",
        "Testing MMIO during vectoring error handling\n",
        "Allowed number of memory slots: 32764\n",
        "Adding slots 0..32763, each memory region with 2048K size\n",
        "Testing ADD of KVM_MEM_GUEST_MEMFD memory regions\n",
        "Testing ADD of overlapping KVM_MEM_GUEST_MEMFD memory regions\n",
        "Testing MOVE of in-use region, 10 loops, slot zap quirk enabled\n",
        "Testing DELETE of in-use region, 10 loops, slot zap quirk enabled\n",
        "Testing MOVE of in-use region, 10 loops, slot zap quirk disabled\n",
        "Testing DELETE of in-use region, 10 loops, slot zap quirk disabled\n",
    };

    @Test
    void passesEverySubtestWithTheCLinesAndVirtualWaits(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("smr.json");
        SelftestsJar.Result r = SelftestsJar.run(300, "set_memory_region_test", "--json", json.toString(), "--stats");
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).containsPattern("^Random seed: 0x6b8b4567\n").containsSubsequence(LINES)
                .doesNotContain("Skipping tests for KVM_MEM_GUEST_MEMFD memory regions");
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("result").asText()).isEqualTo("pass");
        assertThat(root.at("/options/loops").asInt()).isEqualTo(10);
        // 20 MOVE iterations each wait 100 ms after the move and twice in wait_for_vcpu(), 20 DELETE
        // iterations three times: at least 6 s of host waits each, in virtual time.
        assertThat(root.at("/timings/move_total_ns").asLong()).isGreaterThanOrEqualTo(20 * 300_000_000L);
        assertThat(root.at("/timings/delete_total_ns").asLong()).isGreaterThanOrEqualTo(20 * 300_000_000L);
        // Each DELETE iteration takes MMIO exits (the C value rules need them), each MOVE and DELETE VM syncs.
        assertThat(root.at("/stats/vcpu/mmio_exits").asLong()).isGreaterThanOrEqualTo(20 * 2);
        assertThat(root.at("/stats/vcpu/io_exits").asLong()).isGreaterThanOrEqualTo(20 * 3 + 20 * 4);
        assertThat(r.out()).contains("mmio_exits");
    }

    @Test
    void sameSeedSameJson(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        for (Path p : new Path[] {a, b}) {
            SelftestsJar.Result r = SelftestsJar.run(300, "set_memory_region_test", "2", "--seed", "7", "--json", p.toString());
            assertThat(r.exit()).as(r.all()).isZero();
            assertThat(r.out()).contains("Testing MOVE of in-use region, 2 loops, slot zap quirk disabled\n");
        }
        assertThat(Files.readString(a)).isEqualTo(Files.readString(b));
    }

    @Test
    void aBadIterationCountIsAUsageError() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, "set_memory_region_test", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Number of iterations must be greater than 0")
                .contains("usage: selftests.jar set_memory_region_test");
    }
}
