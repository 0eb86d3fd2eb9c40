// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.Iterator;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.Well19937c;
import org.apache.commons.math3.stat.StatUtils;
import org.apache.commons.math3.util.CombinatoricsUtils;
import org.apache.commons.math3.util.MathArrays;

/**
 * Two-sided permutation test of "both samples come from one distribution", statistic |mean(a) − mean(b)|, as
 * Firecracker's A/B tests use between rounds: every relabelling of the pooled rounds when there are at most
 * {@link #EXACT_LIMIT} of them (C(10,5) = 252 for 5 + 5 rounds), otherwise {@link #RESAMPLES} random ones from a
 * seeded generator (reproducible). The p-value counts the observed labelling, so it is never 0: with 5 + 5 rounds
 * the smallest possible is 2/252 ≈ 0.008, with 2 + 2 it is 2/6 ≈ 0.33 ({@link #smallestP}), so few rounds can
 * never show a difference however large.
 */
final class PermutationTest {
    static final int EXACT_LIMIT = 20_000;
    static final int RESAMPLES = 10_000;
    private static final long SEED = 0x6b8b4567L;

    private PermutationTest() {
    }

    static double pValue(double[] a, double[] b) {
        if (a.length == 0 || b.length == 0) {
            return Double.NaN;
        }
        double[] pooled = MathArrays.concatenate(a, b);
        double observed = Math.abs(StatUtils.mean(a) - StatUtils.mean(b));
        // Ties in the statistic count as "at least as extreme"; the slack absorbs float rounding of equal sums.
        double threshold = observed - 1e-9 * Math.max(1, Math.abs(observed));
        int n = pooled.length;
        int k = a.length;
        double total = StatUtils.sum(pooled);
        long extreme = 0;
        long count = 0;
        if (exact(n, k)) {
            Iterator<int[]> it = CombinatoricsUtils.combinationsIterator(n, k);
            while (it.hasNext()) {
                double sumA = 0;
                for (int i : it.next()) {
                    sumA += pooled[i];
                }
                if (statistic(sumA, total, k, n) >= threshold) {
                    extreme++;
                }
                count++;
            }
            return (double) extreme / count;
        }
        RandomGenerator rng = new Well19937c(SEED);
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        for (int r = 0; r < RESAMPLES; r++) {
            MathArrays.shuffle(idx, rng);
            double sumA = 0;
            for (int i = 0; i < k; i++) {
                sumA += pooled[idx[i]];
            }
            if (statistic(sumA, total, k, n) >= threshold) {
                extreme++;
            }
        }
        // The observed labelling is one of the permutations.
        return (extreme + 1.0) / (RESAMPLES + 1.0);
    }

    /**
     * The smallest p-value {@link #pValue} can return for samples of these sizes, reached when they do not overlap.
     * Exact: the observed labelling is always counted, and with equal sizes so is its mirror (the samples swapped,
     * same |difference|), out of C(na + nb, na). Resampled: an observed labelling no shuffle matches gives
     * 1 / (RESAMPLES + 1).
     */
    static double smallestP(int na, int nb) {
        if (na < 1 || nb < 1) {
            return 1.0;
        }
        if (!exact(na + nb, na)) {
            return 1.0 / (RESAMPLES + 1.0);
        }
        return (na == nb ? 2.0 : 1.0) / CombinatoricsUtils.binomialCoefficient(na + nb, na);
    }

    /** The fewest rounds per sample (equal sizes, as compare runs them) whose {@link #smallestP} is below alpha. */
    static int roundsFor(double alpha) {
        if (!(alpha > 1.0 / (RESAMPLES + 1.0))) {
            throw new IllegalArgumentException("no sample size reaches p < " + alpha);
        }
        int n = 1;
        while (!(smallestP(n, n) < alpha)) {
            n++;
        }
        return n;
    }

    /**
     * Whether all C(n, k) labellings are enumerated. Checked in double first: C(n, k) overflows a long from
     * about 34 + 34 rounds, where binomialCoefficient throws.
     */
    private static boolean exact(int n, int k) {
        return CombinatoricsUtils.binomialCoefficientDouble(n, k) <= EXACT_LIMIT
                && CombinatoricsUtils.binomialCoefficient(n, k) <= EXACT_LIMIT;
    }

    private static double statistic(double sumA, double total, int k, int n) {
        return Math.abs(sumA / k - (total - sumA) / (n - k));
    }
}
