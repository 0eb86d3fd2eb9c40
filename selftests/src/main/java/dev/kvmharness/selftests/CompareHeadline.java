// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The comparison in a few lines, for the top of the text and HTML reports: how far apart the backends' times and
 * rates are, how many rows the rounds could call different, and the largest difference. Everything is read from
 * the rows {@link Comparison} built, so the lines cannot disagree with the tables under them. Times and rates are
 * kept apart because their ratios read in opposite directions (a time ratio below 1 and a rate ratio above 1 both
 * mean the simulator is faster).
 */
final class CompareHeadline {
    private CompareHeadline() {
    }

    static List<String> lines(Map<String, Object> result) {
        List<Map<String, Object>> timings = rows(result, "timings");
        List<String> out = new ArrayList<>();
        StringBuilder first = new StringBuilder();
        first.append(result.get("test"));
        List<?> args = result.get("test_args") instanceof List<?> l ? l : List.of();
        args.forEach(a -> first.append(' ').append(a));
        first.append(", ").append(result.get("rounds")).append(" rounds per backend");
        List<String> speed = new ArrayList<>();
        range(timings.stream().filter(r -> !isRate(r)).toList())
                .ifPresent(r -> speed.add("the simulator takes " + r + " kvm's time (lower is faster)"));
        range(timings.stream().filter(CompareHeadline::isRate).toList())
                .ifPresent(r -> speed.add("runs at " + r + " kvm's rate (higher is faster)"));
        if (!speed.isEmpty()) {
            first.append(": ").append(String.join(" and ", speed));
        }
        out.add(first.toString());
        if (!timings.isEmpty()) {
            out.add(timingVerdicts(result, timings));
        }
        String stats = statVerdicts(rows(result, "stats"));
        if (!stats.isEmpty()) {
            out.add(stats);
        }
        timings.stream().filter(r -> usable(ratio(r)))
                .max(Comparator.comparingDouble(r -> Math.abs(Math.log(ratio(r)))))
                .ifPresent(r -> out.add("largest timing difference: " + r.get("name") + ", sim " + times(ratio(r))
                        + " kvm (" + CompareText.num(r.get("sim_median")) + " vs " + CompareText.num(r.get("real_median"))
                        + " " + r.get("unit") + "; " + shortVerdict((String) r.get("verdict")) + ")"));
        return out;
    }

    /** A rate is a count per second (higher is faster); every other timing unit is a duration. */
    static boolean isRate(Map<String, Object> row) {
        return String.valueOf(row.get("unit")).endsWith("/s");
    }

    private static String timingVerdicts(Map<String, Object> result, List<Map<String, Object>> timings) {
        long differ = count(timings, "differs");
        long within = count(timings, "within ±25%");
        long same = count(timings, "no significant difference");
        long tooFew = timings.stream().filter(r -> String.valueOf(r.get("verdict")).startsWith(Comparison.TOO_FEW_ROUNDS))
                .count();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "timings: %d of %d rows differ significantly (p < %.2f, medians more than"
                + " ±25%% apart)", differ, timings.size(), Comparison.ALPHA));
        if (within > 0) {
            sb.append(", ").append(within).append(" within ±25%");
        }
        if (same > 0) {
            sb.append(", ").append(same).append(" no significant difference");
        }
        if (tooFew > 0) {
            Map<String, Object> sig = map(result.get("significance"));
            sb.append(String.format(Locale.ROOT, ", %d %s (smallest reachable p = %.3f with %s + %s rounds; need %s"
                            + " rounds per backend)", tooFew, Comparison.TOO_FEW_ROUNDS, (double) sig.get("smallest_reachable_p"),
                    result.get("rounds"), result.get("rounds"), sig.get("rounds_needed")));
        }
        return sb.toString();
    }

    /** Over the stats the text table shows (non-zero on a backend): how many of the comparable ones match. */
    private static String statVerdicts(List<Map<String, Object>> stats) {
        List<Map<String, Object>> shown = stats.stream()
                .filter(r -> num(r.get("sim_median")) != 0 || num(r.get("real_median")) != 0).toList();
        if (shown.isEmpty()) {
            return "";
        }
        long comparable = shown.stream().filter(r -> Boolean.TRUE.equals(r.get("comparable"))).count();
        return String.format(Locale.ROOT, "stats: %d of %d comparable non-zero stats match, %d differ; %d not comparable"
                + " on this host", count(shown, "match"), comparable, count(shown, "differs"), shown.size() - comparable);
    }

    /** "0.016x to 0.37x", or one ratio when all round alike; empty without a finite positive ratio. */
    private static Optional<String> range(List<Map<String, Object>> rows) {
        double[] ratios = rows.stream().mapToDouble(CompareHeadline::ratio).filter(CompareHeadline::usable).toArray();
        if (ratios.length == 0) {
            return Optional.empty();
        }
        String lo = times(Arrays.stream(ratios).min().orElseThrow());
        String hi = times(Arrays.stream(ratios).max().orElseThrow());
        return Optional.of(lo.equals(hi) ? lo : lo + " to " + hi);
    }

    /** A ratio to two significant digits, never in exponent form: 0.016x, 0.8x, 46x, 460x. */
    static String times(double ratio) {
        return new BigDecimal(ratio).round(new MathContext(2)).stripTrailingZeros().toPlainString() + "x";
    }

    private static String shortVerdict(String verdict) {
        return verdict.startsWith(Comparison.TOO_FEW_ROUNDS) ? Comparison.TOO_FEW_ROUNDS : verdict;
    }

    private static boolean usable(double ratio) {
        return ratio > 0 && Double.isFinite(ratio);
    }

    private static double ratio(Map<String, Object> row) {
        return num(row.get("ratio"));
    }

    private static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static long count(List<Map<String, Object>> rows, String verdict) {
        return rows.stream().filter(r -> verdict.equals(r.get("verdict"))).count();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rows(Map<String, Object> result, String section) {
        return result.get(section) instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
