// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.HdrHistogram.Histogram;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * Sim and real rounds of one port side by side, built from each round's --json report: every stat both backends
 * report (median per backend, ratio, tolerance, comparability on this host, verdict), every timing (medians with
 * spread, ratio, permutation-test p-value, verdict), the latency distributions merged over rounds, what the rounds
 * can show at all (the smallest reachable p) and the headline. The result is a plain map: it is the --json output
 * as is, and the data the HTML page draws.
 */
final class Comparison {
    /** A timing row "differs" only if significant at this level ... */
    static final double ALPHA = 0.05;
    /** ... and its medians are further apart than this fraction. */
    static final double TIMING_TOLERANCE = 0.25;
    /** The verdict of a timing row whose sample sizes cannot reach p < ALPHA, before its details. */
    static final String TOO_FEW_ROUNDS = "too few rounds for a verdict";
    /** The latency percentiles reported per round, by JSON key. */
    static final List<String> PERCENTILES = List.of("p50", "p90", "p99", "p99_9", "max");

    private Comparison() {
    }

    static Map<String, Object> build(String test, List<String> testArgs, int rounds, HostKvm host,
                                     List<Map<String, Object>> sim, List<Map<String, Object>> real) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("test", test);
        root.put("test_args", testArgs);
        root.put("rounds", rounds);
        root.put("host", host.toJson());
        root.put("sim_backend_report", sim.isEmpty() ? Map.of() : sim.get(0).get("backend_report"));
        root.put("significance", significance(sim.size(), real.size()));
        root.put("stats", statRows(host, sim, real));
        root.put("timings", timingRows(sim, real));
        root.put("latencies", distributions(sim, real));
        root.put("headline", CompareHeadline.lines(root));
        return root;
    }

    /**
     * What the permutation test can show with these rounds: the level, the smallest p the sample sizes can reach,
     * and the rounds per backend needed to get below the level.
     */
    private static Map<String, Object> significance(int simRounds, int realRounds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alpha", ALPHA);
        m.put("smallest_reachable_p", PermutationTest.smallestP(simRounds, realRounds));
        m.put("rounds_needed", PermutationTest.roundsFor(ALPHA));
        return m;
    }

    /**
     * A timing row's verdict. Without the too-few-rounds case, 2 + 2 rounds (p ≥ 1/3 whatever the data) would call
     * a 46x difference "no significant difference", as if the rounds had shown the backends alike.
     */
    static String timingVerdict(double ratio, double p, int simRounds, int realRounds) {
        if (!Double.isNaN(ratio) && Math.abs(ratio - 1) <= TIMING_TOLERANCE) {
            return "within ±25%";
        }
        if (p < ALPHA) {
            return "differs";
        }
        double floor = PermutationTest.smallestP(simRounds, realRounds);
        if (!(floor < ALPHA)) {
            return String.format(Locale.ROOT, "%s (smallest reachable p = %.3f; need %d rounds per backend)",
                    TOO_FEW_ROUNDS, floor, PermutationTest.roundsFor(ALPHA));
        }
        return "no significant difference";
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    /** The scalar stats of one round by "scope.name" (histogram stats are left out). */
    static Map<String, Double> scalarStats(Map<String, Object> round) {
        Map<String, Double> out = new LinkedHashMap<>();
        Map<String, Object> stats = map(round.get("stats"));
        for (String scope : List.of("vm", "vcpu")) {
            map(stats.get(scope)).forEach((name, v) -> {
                if (v instanceof Number n) {
                    out.put(scope + "." + name, n.doubleValue());
                }
            });
        }
        return out;
    }

    private static List<Map<String, Object>> statRows(HostKvm host, List<Map<String, Object>> sim, List<Map<String, Object>> real) {
        List<Map<String, Double>> s = sim.stream().map(Comparison::scalarStats).toList();
        List<Map<String, Double>> r = real.stream().map(Comparison::scalarStats).toList();
        Set<String> names = new LinkedHashSet<>(s.isEmpty() ? Set.of() : s.get(0).keySet());
        names.retainAll(r.isEmpty() ? Set.of() : r.get(0).keySet());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String key : names) {
            String name = key.substring(key.indexOf('.') + 1);
            double[] sv = s.stream().mapToDouble(m -> m.getOrDefault(key, 0.0)).toArray();
            double[] rv = r.stream().mapToDouble(m -> m.getOrDefault(key, 0.0)).toArray();
            CompareStatRules.Rule rule = CompareStatRules.rule(name, host);
            double sm = median(sv);
            double rm = median(rv);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("scope", key.substring(0, key.indexOf('.')));
            row.put("name", name);
            row.put("sim", sv);
            row.put("real", rv);
            row.put("sim_median", sm);
            row.put("real_median", rm);
            row.put("ratio", ratio(sm, rm));
            row.put("tolerance", rule.toleranceText());
            row.put("comparable", rule.comparable());
            row.put("reason", rule.reason());
            row.put("verdict", !rule.comparable() ? "not comparable" : rule.within(sm, rm) ? "match" : "differs");
            rows.add(row);
        }
        // Rows with something in them first; all-zero rows keep their order at the end.
        rows.sort((a, b) -> Boolean.compare(allZero(a), allZero(b)));
        return rows;
    }

    private static boolean allZero(Map<String, Object> row) {
        return (double) row.get("sim_median") == 0 && (double) row.get("real_median") == 0;
    }

    /** One timing row per measured quantity: name, unit, and where to find it in a round's JSON. */
    private record Timing(String name, String unit, String section, String key, String sub) {
        Double value(Map<String, Object> round) {
            Object v = map(round.get(section)).get(key);
            if (sub != null) {
                v = map(v).get(sub);
            }
            return v instanceof Number n ? n.doubleValue() : null;
        }
    }

    private static List<Timing> timings(List<Map<String, Object>> rounds) {
        List<Timing> out = new ArrayList<>();
        if (rounds.isEmpty()) {
            return out;
        }
        Map<String, Object> first = rounds.get(0);
        map(first.get("timings")).keySet().forEach(k -> out.add(new Timing(k, "ns", "timings", k, null)));
        if (map(first.get("rates")).containsKey("overall_pgs_per_sec")) {
            out.add(new Timing("overall_pgs_per_sec", "pages/s", "rates", "overall_pgs_per_sec", null));
        }
        map(first.get("latencies")).keySet().forEach(lat -> PERCENTILES.forEach(p ->
                out.add(new Timing(lat + " " + p, "ns", "latencies", lat, p))));
        return out;
    }

    private static List<Map<String, Object>> timingRows(List<Map<String, Object>> sim, List<Map<String, Object>> real) {
        List<Map<String, Object>> rows = new ArrayList<>();
        Set<String> realNames = new LinkedHashSet<>();
        timings(real).forEach(t -> realNames.add(t.name()));
        for (Timing t : timings(sim)) {
            if (!realNames.contains(t.name())) {
                continue;
            }
            double[] sv = sim.stream().map(t::value).filter(v -> v != null).mapToDouble(Double::doubleValue).toArray();
            double[] rv = real.stream().map(t::value).filter(v -> v != null).mapToDouble(Double::doubleValue).toArray();
            double sm = median(sv);
            double rm = median(rv);
            double p = PermutationTest.pValue(sv, rv);
            double ratio = ratio(sm, rm);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", t.name());
            row.put("unit", t.unit());
            row.put("sim", sv);
            row.put("real", rv);
            row.put("sim_median", sm);
            row.put("real_median", rm);
            row.put("sim_spread", spread(sv));
            row.put("real_spread", spread(rv));
            row.put("ratio", ratio);
            row.put("p_value", p);
            row.put("smallest_reachable_p", PermutationTest.smallestP(sv.length, rv.length));
            row.put("verdict", timingVerdict(ratio, p, sv.length, rv.length));
            rows.add(row);
        }
        return rows;
    }

    static double median(double[] v) {
        return v.length == 0 ? Double.NaN : new DescriptiveStatistics(v).getPercentile(50);
    }

    /** min, max, and the interquartile range relative to the median (0 for deterministic sim rounds). */
    static Map<String, Object> spread(double[] v) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (v.length == 0) {
            return m;
        }
        DescriptiveStatistics d = new DescriptiveStatistics(v);
        m.put("min", d.getMin());
        m.put("max", d.getMax());
        double med = d.getPercentile(50);
        m.put("iqr_rel", med == 0 ? 0.0 : (d.getPercentile(75) - d.getPercentile(25)) / med);
        return m;
    }

    private static double ratio(double sim, double real) {
        if (real == 0) {
            return sim == 0 ? 1.0 : Double.NaN;
        }
        return sim / real;
    }

    /** Per latency: the histogram merged over rounds on each backend, as log buckets and a CDF. */
    private static Map<String, Object> distributions(List<Map<String, Object>> sim, List<Map<String, Object>> real) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (sim.isEmpty() || real.isEmpty()) {
            return out;
        }
        for (String lat : map(sim.get(0).get("latencies")).keySet()) {
            Histogram s = merged(sim, lat);
            Histogram r = merged(real, lat);
            if (s == null || r == null) {
                continue;
            }
            out.put(lat, LatencyCharts.of(s, r));
        }
        return out;
    }

    private static Histogram merged(List<Map<String, Object>> rounds, String lat) {
        Histogram h = new Histogram(3);
        for (Map<String, Object> round : rounds) {
            Object enc = map(map(round.get("latencies")).get(lat)).get("hdr");
            if (!(enc instanceof String e)) {
                return null;
            }
            h.add(LatencySummary.decode(e));
        }
        return h;
    }
}
