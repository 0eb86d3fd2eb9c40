// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kvmharness.harness.Ksft;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * --json: one object per run with test, backend, result (pass|fail|skip), the options as understood, timings,
 * rates, latency percentiles, the stats deltas by KVM name, and the port's own sections (max_guest_memory_test's
 * teardown). Timings fields (ending in _ns) are host wall-clock time on kvm and virtual time on sim, so a
 * sim report depends only on the options and the seed.
 */
final class JsonReport {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {
    }

    static Map<String, Object> build(Port port, String backend, long seed, Ksft.Result r, Port.Result result) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("test", port.name());
        root.put("backend", backend);
        // what the *_ns timings count: the simulator's virtual clock, or the host's
        root.put("clock", "sim".equals(backend) ? "virtual" : "wall");
        root.put("result", r.status());
        root.put("exit_code", r.exitCode());
        if (r.reason() != null) {
            root.put("reason", r.reason());
        }
        root.put("seed", seed);
        root.put("options", port.options());
        root.put("timings", result.timings());
        root.put("rates", result.rates());
        root.put("latencies", result.latencies());
        Map<String, Object> stats = new LinkedHashMap<>();
        if (result.stats() != null) {
            stats.put("vm", StatsReport.toJson(result.stats().vm()));
            stats.put("vcpu", StatsReport.toJson(result.stats().vcpuTotal()));
        }
        root.put("stats", stats);
        root.put("backend_report", result.backendReport());
        result.sections().forEach(root::putIfAbsent);
        return root;
    }

    static void write(Path path, Port port, String backend, long seed, Ksft.Result r, Port.Result result) {
        try {
            MAPPER.writeValue(path.toFile(), build(port, backend, seed, r, result));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + path, e);
        }
    }
}
