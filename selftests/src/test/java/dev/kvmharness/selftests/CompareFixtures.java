// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Synthetic round reports and comparisons whose verdicts are known, shared by the compare report tests. */
final class CompareFixtures {
    static final HostKvm TDP = new HostKvm("kvm_intel", "Y", "Y", "6.12.0");
    static final HostKvm PVM = new HostKvm("kvm_pvm", "N", null, "6.18.44");

    private CompareFixtures() {
    }

    /** A round report as a port's --json has it. */
    static Map<String, Object> round(long pfFixed, long ioExits, long totalNs, long latBase) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("stats", Map.of("vm", Map.of("pages_4k", pfFixed, "halt_poll_fail_hist", List.of(1, 2)),
                "vcpu", Map.of("pf_fixed", pfFixed, "io_exits", ioExits, "insn_emulation", 0)));
        r.put("timings", Map.of("total_guest_execution_ns", totalNs));
        r.put("rates", Map.of("overall_pgs_per_sec", 1e9 * pfFixed / totalNs));
        Histogram h = new Histogram(3);
        for (int i = 0; i < 1000; i++) {
            h.recordValue(latBase + i);
        }
        Map<String, Object> lat = LatencySummary.of(h);
        r.put("latencies", Map.of("first_touch_ns", lat));
        return r;
    }

    /** Five rounds per backend: deterministic sim rounds, real ones spreading a little from round to round. */
    static Map<String, Object> compare(HostKvm host, long simTotal, long realTotalBase) {
        return compare(host, 5, simTotal, realTotalBase);
    }

    static Map<String, Object> compare(HostKvm host, int rounds, long simTotal, long realTotalBase) {
        List<Map<String, Object>> sim = new ArrayList<>();
        List<Map<String, Object>> real = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            sim.add(round(16384, 1, simTotal, 2000));
            real.add(round(16384 + i, i == 0 ? 0 : 1, realTotalBase + 1000L * i, 9000 + 100L * i));
        }
        return Comparison.build("demand_paging_test", List.of("-b", "64M"), rounds, host, sim, real);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> row(Map<String, Object> result, String section, String name) {
        return ((List<Map<String, Object>>) result.get(section)).stream().filter(r -> r.get("name").equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no row " + name + " in " + section));
    }
}
