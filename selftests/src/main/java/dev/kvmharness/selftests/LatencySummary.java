// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** A latency distribution as reported: count, mean, percentiles and max, in the histogram's unit (ns). */
final class LatencySummary {
    private LatencySummary() {
    }

    static Map<String, Object> of(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.getTotalCount());
        m.put("mean", Math.round(h.getMean()));
        m.put("p50", h.getValueAtPercentile(50));
        m.put("p90", h.getValueAtPercentile(90));
        m.put("p99", h.getValueAtPercentile(99));
        m.put("max", h.getMaxValue());
        return m;
    }
}
