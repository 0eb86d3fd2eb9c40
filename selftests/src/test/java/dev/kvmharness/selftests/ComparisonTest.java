// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** Comparison rows and the HTML page built from synthetic rounds whose verdicts are known. */
class ComparisonTest {
    private static final HostKvm TDP = new HostKvm("kvm_intel", "Y", "Y", "6.12.0");
    private static final HostKvm PVM = new HostKvm("kvm_pvm", "N", null, "6.18.44");

    /** A round report as a port's --json has it. */
    private static Map<String, Object> round(long pfFixed, long ioExits, long totalNs, long latBase) {
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

    @SuppressWarnings("unchecked")
    private static Map<String, Object> row(Map<String, Object> result, String section, String name) {
        return ((List<Map<String, Object>>) result.get(section)).stream().filter(r -> r.get("name").equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no row " + name + " in " + section));
    }

    private static Map<String, Object> compare(HostKvm host, long simTotal, long realTotalBase) {
        List<Map<String, Object>> sim = new ArrayList<>();
        List<Map<String, Object>> real = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sim.add(round(16384, 1, simTotal, 2000));
            real.add(round(16384 + i, i == 0 ? 0 : 1, realTotalBase + 1000L * i, 9000 + 100L * i));
        }
        return Comparison.build("demand_paging_test", List.of("-b", "64M"), 5, host, sim, real);
    }

    @Test
    void statRowsJoinOnNamesAndJudgeByRuleAndTolerance() {
        Map<String, Object> res = compare(TDP, 1_000_000, 1_000_000);
        Map<String, Object> pf = row(res, "stats", "pf_fixed");
        assertThat(pf.get("sim_median")).isEqualTo(16384.0);
        assertThat(pf.get("real_median")).isEqualTo(16386.0);
        assertThat(pf.get("verdict")).isEqualTo("match"); // within 1%
        assertThat(row(res, "stats", "io_exits").get("verdict")).isEqualTo("match"); // median 1 of {0,1,1,1,1}
        assertThat(row(res, "stats", "insn_emulation").get("verdict")).isEqualTo("not comparable");
        // Histogram stats are not rows.
        assertThat(((List<?>) res.get("stats")).stream().map(r -> String.valueOf(((Map<?, ?>) r).get("name"))).toList())
                .doesNotContain("halt_poll_fail_hist");
    }

    @Test
    void onAShadowPagingHostTheTdpRowsAreNotComparableButStillShown() {
        Map<String, Object> res = compare(PVM, 1_000_000, 1_000_000);
        Map<String, Object> pf = row(res, "stats", "pf_fixed");
        assertThat(pf.get("comparable")).isEqualTo(false);
        assertThat(pf.get("verdict")).isEqualTo("not comparable");
        assertThat((String) pf.get("reason")).contains("shadow paging", "kvm_pvm");
        assertThat(pf.get("sim_median")).isEqualTo(16384.0);
    }

    @Test
    void timingRowsCarryMediansSpreadPValueAndVerdict() {
        Map<String, Object> far = compare(TDP, 100_000, 1_000_000);
        Map<String, Object> total = row(far, "timings", "total_guest_execution_ns");
        assertThat(total.get("sim_median")).isEqualTo(100_000.0);
        assertThat(total.get("real_median")).isEqualTo(1_002_000.0);
        assertThat((double) total.get("p_value")).isLessThan(0.01);
        assertThat(total.get("verdict")).isEqualTo("differs");
        assertThat(((Map<?, ?>) total.get("real_spread")).get("min")).isEqualTo(1_000_000.0);
        Map<String, Object> p50 = row(far, "timings", "first_touch_ns p50");
        assertThat((double) p50.get("sim_median")).isBetween(2490.0, 2510.0);
        Map<String, Object> close = row(compare(TDP, 1_001_000, 1_000_000), "timings", "total_guest_execution_ns");
        assertThat(close.get("verdict")).isEqualTo("within ±25%");
    }

    @Test
    @SuppressWarnings("unchecked")
    void latencyDistributionsAreMergedOverRoundsIntoSharedBuckets() {
        Map<String, Object> res = compare(TDP, 1_000_000, 1_000_000);
        Map<String, Object> ft = (Map<String, Object>) ((Map<String, Object>) res.get("latencies")).get("first_touch_ns");
        assertThat(ft.get("sim_count")).isEqualTo(5000L);
        assertThat(ft.get("real_count")).isEqualTo(5000L);
        List<Double> simShare = (List<Double>) ft.get("sim_share");
        List<Double> realShare = (List<Double>) ft.get("real_share");
        assertThat(simShare.stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(realShare.stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-9));
        List<Long> edges = (List<Long>) ft.get("bucket_edges_ns");
        assertThat(edges).hasSize(simShare.size() + 1).isSorted();
        assertThat(edges.get(0)).isLessThanOrEqualTo(2000L);
        assertThat(edges.get(edges.size() - 1)).isGreaterThan(9000L + 400 + 999);
    }

    @Test
    void theHtmlPageIsSelfContained() {
        String html = CompareHtml.render(compare(PVM, 1_000_000, 1_000_000));
        assertThat(html).contains("Chart.js v4", "id=\"compare-data\"", "not comparable", "self-check");
        assertThat(html).doesNotContainPattern("(src|href)=\"(https?:)?//");
        // Only our own script elements close: the inlined data and library cannot end one early.
        assertThat(html.split("</script>", -1)).hasSize(5); // error capture, Chart.js, data, drawing
    }
}
