// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static dev.kvmharness.selftests.CompareFixtures.PVM;
import static dev.kvmharness.selftests.CompareFixtures.TDP;
import static dev.kvmharness.selftests.CompareFixtures.compare;
import static dev.kvmharness.selftests.CompareFixtures.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Comparison rows built from synthetic rounds whose verdicts are known. */
class ComparisonTest {
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

    /**
     * A comparable stat matches when |sim - real| is within its relative tolerance (a fraction of real) or within its
     * absolute one, as the report's tolerance column says ("±1% or ±1"): either suffices, so a stat outside one but
     * inside the other matches, and only one outside both differs. A bound itself is inside.
     */
    @ParameterizedTest(name = "{0}: sim {2} vs real {3} -> {5} ({6})")
    @CsvSource(delimiter = '|', value = {
        "pf_fixed         | vcpu | 51   | 50   | ±1% or ±1  | match   | outside ±1% (0.5), inside ±1",
        "pf_fixed         | vcpu | 1005 | 1000 | ±1% or ±1  | match   | inside ±1% (10), outside ±1",
        "pf_fixed         | vcpu | 1010 | 1000 | ±1% or ±1  | match   | on the relative bound",
        "pf_fixed         | vcpu | 1011 | 1000 | ±1% or ±1  | differs | outside both",
        "pf_fixed         | vcpu | 52   | 50   | ±1% or ±1  | differs | outside both",
        "pages_4k         | vm   | 49   | 50   | ±1% or ±1  | match   | outside ±1% (0.5), inside ±1",
        "pages_4k         | vm   | 995  | 1000 | ±1% or ±1  | match   | inside ±1% (10), outside ±1",
        "pages_4k         | vm   | 989  | 1000 | ±1% or ±1  | differs | outside both",
        "remote_tlb_flush | vm   | 12   | 10   | ±10% or ±2 | match   | outside ±10% (1), inside ±2",
        "remote_tlb_flush | vm   | 108  | 100  | ±10% or ±2 | match   | inside ±10% (10), outside ±2",
        "remote_tlb_flush | vm   | 13   | 10   | ±10% or ±2 | differs | outside both",
        "remote_tlb_flush | vm   | 111  | 100  | ±10% or ±2 | differs | outside both",
        "exits            | vcpu | 3    | 1    | ±5% or ±2  | match   | outside ±5% (0.05), inside ±2",
        "exits            | vcpu | 1040 | 1000 | ±5% or ±2  | match   | inside ±5% (50), outside ±2",
        "exits            | vcpu | 1051 | 1000 | ±5% or ±2  | differs | outside both",
        "tlb_flush        | vcpu | 1002 | 1000 | ±2         | match   | absolute only, on the bound",
        "tlb_flush        | vcpu | 1003 | 1000 | ±2         | differs | absolute only: 0.3% apart is still outside ±2",
        "io_exits         | vcpu | 1001 | 1000 | exact      | differs | exact",
    })
    void aComparableStatMatchesWithinItsRelativeOrItsAbsoluteTolerance(String name, String scope, long sim, long real,
                                                                     String tolerance, String verdict, String why) {
        Map<String, Object> res = Comparison.build("demand_paging_test", List.of(), 1, TDP,
                List.of(withStat(scope, name, sim)), List.of(withStat(scope, name, real)));
        Map<String, Object> r = row(res, "stats", name);
        assertThat(r.get("comparable")).isEqualTo(true);
        assertThat(r.get("tolerance")).isEqualTo(tolerance);
        assertThat(r.get("verdict")).as("%s: sim %d, real %d, %s: %s", name, sim, real, tolerance, why).isEqualTo(verdict);
    }

    /** A round of the fixtures with one stat more (or replaced). */
    private static Map<String, Object> withStat(String scope, String name, long value) {
        Map<String, Object> round = new LinkedHashMap<>(CompareFixtures.round(16384, 1, 1_000_000, 2000));
        @SuppressWarnings("unchecked")
        Map<String, Object> stats = new LinkedHashMap<>((Map<String, Object>) round.get("stats"));
        @SuppressWarnings("unchecked")
        Map<String, Object> scoped = new LinkedHashMap<>((Map<String, Object>) stats.get(scope));
        scoped.put(name, value);
        stats.put(scope, scoped);
        round.put("stats", stats);
        return round;
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
        assertThat(simShare.stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, within(1e-9));
        assertThat(realShare.stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, within(1e-9));
        List<Long> edges = (List<Long>) ft.get("bucket_edges_ns");
        assertThat(edges).hasSize(simShare.size() + 1).isSorted();
        assertThat(edges.get(0)).isLessThanOrEqualTo(2000L);
        assertThat(edges.get(edges.size() - 1)).isGreaterThan(9000L + 400 + 999);
    }

    @Test
    @SuppressWarnings("unchecked")
    void twoRoundsPerBackendCannotReachSignificanceAndSaySo() {
        // A 10x difference on 2 + 2 rounds: p is 2/C(4,2) = 1/3 at best, so "no significant difference" would be wrong.
        Map<String, Object> res = compare(TDP, 2, 100_000, 1_000_000);
        Map<String, Object> total = row(res, "timings", "total_guest_execution_ns");
        assertThat((double) total.get("p_value")).isCloseTo(1.0 / 3, within(1e-12));
        assertThat(total.get("verdict")).as("verdict of a 10x difference on 2 + 2 rounds")
                .isEqualTo("too few rounds for a verdict (smallest reachable p = 0.333; need 4 rounds per backend)");
        assertThat((double) total.get("smallest_reachable_p")).isCloseTo(1.0 / 3, within(1e-12));
        Map<String, Object> sig = (Map<String, Object>) res.get("significance");
        assertThat(sig).containsEntry("alpha", 0.05).containsEntry("rounds_needed", 4);
        // Rows whose medians agree still say so: that needs no significance.
        assertThat(row(compare(TDP, 2, 1_001_000, 1_000_000), "timings", "total_guest_execution_ns").get("verdict"))
                .isEqualTo("within ±25%");
    }

    @Test
    void threeRoundsAreStillTooFewAndFourGiveARealVerdict() {
        // 2/C(6,3) = 0.1: still above 0.05.
        assertThat(row(compare(TDP, 3, 100_000, 1_000_000), "timings", "total_guest_execution_ns").get("verdict"))
                .isEqualTo("too few rounds for a verdict (smallest reachable p = 0.100; need 4 rounds per backend)");
        Map<String, Object> four = row(compare(TDP, 4, 100_000, 1_000_000), "timings", "total_guest_execution_ns");
        assertThat((double) four.get("p_value")).isCloseTo(2.0 / 70, within(1e-12));
        assertThat(four.get("verdict")).isEqualTo("differs");
    }

    @Test
    void enoughRoundsWithOverlappingSamplesAreNoSignificantDifference() {
        // 0.7x of real in median, but with one sim round among the real ones: p far above 0.05, and reachable.
        assertThat(Comparison.timingVerdict(0.7, 0.4, 5, 5)).isEqualTo("no significant difference");
        assertThat(Comparison.timingVerdict(0.7, 0.4, 2, 2)).startsWith(Comparison.TOO_FEW_ROUNDS);
        assertThat(Comparison.timingVerdict(0.7, 0.01, 5, 5)).isEqualTo("differs");
    }

    @Test
    void theJsonReportCarriesTheTooFewRoundsVerdictAndTheHeadline() throws Exception {
        String json = new ObjectMapper().writeValueAsString(compare(TDP, 2, 100_000, 1_000_000));
        assertThat(json).contains("\"verdict\":\"too few rounds for a verdict (smallest reachable p = 0.333; need 4 rounds"
                + " per backend)\"", "\"headline\":[\"demand_paging_test -b 64M, 2 rounds per backend");
    }
}
