// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * What the report draws for one latency, sim against real: shared logarithmic buckets (four per doubling, so
 * distributions orders of magnitude apart fit one axis) with each backend's share of samples, and each
 * backend's CDF as (value, percentile) points.
 */
final class LatencyCharts {
    /** Bucket edges grow by 2^(1/4). */
    private static final double STEP = Math.pow(2, 0.25);
    private static final double[] CDF_PERCENTILES = cdfPercentiles();

    private LatencyCharts() {
    }

    static Map<String, Object> of(Histogram sim, Histogram real) {
        long lo = Math.max(1, Math.min(sim.getMinValue(), real.getMinValue()));
        long hi = Math.max(sim.getMaxValue(), real.getMaxValue());
        List<Long> edges = new ArrayList<>();
        double e = Math.pow(2, Math.floor(Math.log((double) lo) / Math.log(2)));
        edges.add((long) e);
        while (edges.get(edges.size() - 1) <= hi) {
            e *= STEP;
            long next = Math.max(edges.get(edges.size() - 1) + 1, Math.round(e));
            edges.add(next);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bucket_edges_ns", edges);
        m.put("sim_share", shares(sim, edges));
        m.put("real_share", shares(real, edges));
        m.put("sim_cdf", cdf(sim));
        m.put("real_cdf", cdf(real));
        m.put("sim_count", sim.getTotalCount());
        m.put("real_count", real.getTotalCount());
        return m;
    }

    /** Fraction of samples in [edges[i], edges[i+1]), each recorded value counted once. */
    private static List<Double> shares(Histogram h, List<Long> edges) {
        double[] counts = new double[edges.size() - 1];
        for (HistogramIterationValue v : h.recordedValues()) {
            long x = v.getValueIteratedTo();
            int i = 0;
            while (i + 1 < counts.length && x >= edges.get(i + 1)) {
                i++;
            }
            counts[i] += v.getCountAtValueIteratedTo();
        }
        double total = Math.max(1, h.getTotalCount());
        List<Double> out = new ArrayList<>();
        for (double c : counts) {
            out.add(c / total);
        }
        return out;
    }

    private static List<List<Double>> cdf(Histogram h) {
        List<List<Double>> pts = new ArrayList<>();
        for (double p : CDF_PERCENTILES) {
            pts.add(List.of((double) h.getValueAtPercentile(p), p));
        }
        return pts;
    }

    private static double[] cdfPercentiles() {
        List<Double> ps = new ArrayList<>();
        for (int p = 0; p < 99; p++) {
            ps.add((double) p);
        }
        for (double p : new double[] {99, 99.5, 99.9, 99.99, 100}) {
            ps.add(p);
        }
        return ps.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
