// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the report draws for the timing rows: one chart of times (lower is faster) and one of rates (higher is
 * faster), each with the sim and real medians per row on a log axis. They are apart because on one axis a
 * reader cannot tell whether a taller bar is the better or the worse backend. A chart without rows is left out.
 */
final class TimingCharts {
    private TimingCharts() {
    }

    /** The charts to draw, in order: each with its canvas id, title, axis label, row labels and both datasets. */
    static List<Map<String, Object>> of(Map<String, Object> result) {
        List<Map<String, Object>> times = new ArrayList<>();
        List<Map<String, Object>> rates = new ArrayList<>();
        for (Map<String, Object> row : rows(result)) {
            (CompareHeadline.isRate(row) ? rates : times).add(row);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        if (!times.isEmpty()) {
            out.add(chart("times-chart", "Times: median per backend (lower is faster)", "lower is faster", times));
        }
        if (!rates.isEmpty()) {
            out.add(chart("rates-chart", "Rates: median per backend (higher is faster)", "higher is faster", rates));
        }
        return out;
    }

    private static Map<String, Object> chart(String id, String title, String better, List<Map<String, Object>> rows) {
        Set<String> units = new LinkedHashSet<>();
        List<String> labels = new ArrayList<>();
        List<Double> sim = new ArrayList<>();
        List<Double> real = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            units.add(String.valueOf(row.get("unit")));
            double ratio = row.get("ratio") instanceof Number n ? n.doubleValue() : Double.NaN;
            labels.add(row.get("name") + (ratio > 0 && Double.isFinite(ratio) ? " (sim " + CompareHeadline.times(ratio) + ")" : ""));
            sim.add(plottable(row.get("sim_median")));
            real.add(plottable(row.get("real_median")));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("title", title);
        m.put("axis", String.join(", ", units) + " (log), " + better);
        m.put("labels", labels);
        m.put("sim", sim);
        m.put("real", real);
        return m;
    }

    /** A median a log axis can show; null (no bar) for 0 or a missing value. */
    private static Double plottable(Object o) {
        double d = o instanceof Number n ? n.doubleValue() : Double.NaN;
        return d > 0 && Double.isFinite(d) ? d : null;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rows(Map<String, Object> result) {
        return result.get("timings") instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
    }
}
