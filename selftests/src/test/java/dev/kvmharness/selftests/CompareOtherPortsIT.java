// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.junit.RequiresKvm;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compare runs every landed port, not only demand_paging_test: max_guest_memory_test (its per-run timings) on the
 * simulator and on /dev/kvm, with stats rows and timing rows in the JSON. {@link PortsTest} checks that
 * every port of the runner is registered.
 */
@RequiresKvm
class CompareOtherPortsIT {
    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void compareMaxGuestMemory() throws Exception {
        Path json = dir.resolve("m.json");
        SelftestsJar.Result r = SelftestsJar.run(600, "compare", "max_guest_memory_test", "-m", "1", "-c", "1",
                "--rounds", "1", "--json", json.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("# round 1 sim", "# round 1 kvm", "host KVM:");
        Map<String, Object> res = new ObjectMapper().readValue(json.toFile(), Map.class);
        assertThat(res.get("test")).isEqualTo("max_guest_memory_test");
        List<Map<String, Object>> stats = (List<Map<String, Object>>) res.get("stats");
        assertThat(stats).extracting(m -> m.get("name")).contains("pages_4k", "tlb_flush");
        List<Map<String, Object>> timings = (List<Map<String, Object>>) res.get("timings");
        assertThat(timings).extracting(m -> m.get("name")).contains("run1_ns", "run2_ns");
        assertThat(timings).allSatisfy(t -> assertThat((List<Object>) t.get("real")).hasSize(1));
    }
}
