// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Stats;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** --stats: the run's binary-stats deltas, VM stats then vCPU stats summed over vCPUs, non-zero ones only. */
final class StatsReport {
    private StatsReport() {
    }

    static void print(Stats.Delta delta, PrintStream out) {
        out.println("Stats deltas (KVM binary stats, non-zero):");
        print("vm", delta.vm(), out);
        print("vcpu", delta.vcpuTotal(), out);
    }

    private static void print(String scope, Map<String, long[]> stats, PrintStream out) {
        stats.forEach((name, v) -> {
            if (Arrays.stream(v).anyMatch(x -> x != 0)) {
                out.printf("  %-5s %-36s %s%n", scope, name, v.length == 1 ? Long.toString(v[0]) : Arrays.toString(v));
            }
        });
    }

    /** A stats map for JSON: scalars as numbers, histograms as arrays. */
    static Map<String, Object> toJson(Map<String, long[]> stats) {
        Map<String, Object> m = new LinkedHashMap<>();
        stats.forEach((name, v) -> m.put(name, v.length == 1 ? (Object) v[0] : v));
        return m;
    }
}
