// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The comparison as text on stdout: one line per round while running, then the headline (what a reader wants
 * first: {@link CompareHeadline}) and the stat and timing tables.
 */
final class CompareText {
    private CompareText() {
    }

    @SuppressWarnings("unchecked")
    static String brief(Map<String, Object> report) {
        Object total = ((Map<String, Object>) report.getOrDefault("timings", Map.of())).get("total_guest_execution_ns");
        Object rate = ((Map<String, Object>) report.getOrDefault("rates", Map.of())).get("overall_pgs_per_sec");
        StringBuilder sb = new StringBuilder();
        if (total instanceof Number n) {
            sb.append(String.format(Locale.ROOT, "total %.3f ms", n.doubleValue() / 1e6));
        }
        if (rate instanceof Number n) {
            sb.append(String.format(Locale.ROOT, ", %.0f pgs/s", n.doubleValue()));
        }
        return sb.toString();
    }

    static String num(Object o) {
        if (!(o instanceof Number n)) {
            return String.valueOf(o);
        }
        double d = n.doubleValue();
        if (Double.isNaN(d)) {
            return "n/a";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return String.format(Locale.ROOT, "%,d", (long) d);
        }
        return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%,.0f", d) : String.format(Locale.ROOT, "%.3g", d);
    }

    @SuppressWarnings("unchecked")
    static void print(Map<String, Object> result, PrintStream out) {
        out.println();
        for (Object line : (List<Object>) result.getOrDefault("headline", List.of())) {
            out.println(line);
        }
        out.println();
        out.println("Host: " + ((Map<String, Object>) result.get("host")).get("description"));
        out.println();
        out.printf("%-5s %-28s %14s %14s %8s %-12s %-15s %s%n", "scope", "stat", "sim", "real", "ratio", "tolerance",
                "verdict", "reason");
        for (Map<String, Object> row : (List<Map<String, Object>>) result.get("stats")) {
            if ((double) row.get("sim_median") == 0 && (double) row.get("real_median") == 0) {
                continue;
            }
            out.printf("%-5s %-28s %14s %14s %8s %-12s %-15s %s%n", row.get("scope"), row.get("name"),
                    num(row.get("sim_median")), num(row.get("real_median")), num(row.get("ratio")),
                    row.get("comparable").equals(true) ? row.get("tolerance") : "-", row.get("verdict"),
                    row.get("comparable").equals(true) ? "" : row.get("reason"));
        }
        out.println("(stats that are 0 on both backends are in the --json/--html report)");
        out.println();
        out.printf("%-28s %14s %14s %14s %8s %8s %s%n", "timing (median)", "sim", "real", "real min-max", "ratio", "p",
                "verdict");
        for (Map<String, Object> row : (List<Map<String, Object>>) result.get("timings")) {
            Map<String, Object> rs = (Map<String, Object>) row.get("real_spread");
            out.printf("%-28s %14s %14s %14s %8s %8s %s%n", row.get("name") + " (" + row.get("unit") + ")",
                    num(row.get("sim_median")), num(row.get("real_median")),
                    num(rs.get("min")) + "-" + num(rs.get("max")), num(row.get("ratio")),
                    String.format(Locale.ROOT, "%.3f", (double) row.get("p_value")), row.get("verdict"));
        }
    }
}
