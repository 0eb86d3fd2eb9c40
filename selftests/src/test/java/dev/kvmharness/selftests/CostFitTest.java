// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.kvmharness.mmu.sched.Cost;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The least-squares fit recovers costs from observables that a known linear model produced. */
class CostFitTest {
    private static final List<Cost> COSTS = List.of(Cost.GUEST_INSN, Cost.FAULT_BASE, Cost.HOST_PAGE_COPY);
    /** Rows: totals and p50s of three runs; columns: how often each cost is charged. */
    private static final double[][] J = {
        {100_000, 4096, 0}, {5, 1, 0},
        {300_000, 12_288, 0}, {5, 1, 0},
        {100_000, 4096, 4096}, {5, 1, 1},
    };
    private static final double[] X0 = {1, 250, 450};

    private static double[] observe(double[] x) {
        double[] y = new double[J.length];
        for (int i = 0; i < J.length; i++) {
            for (int k = 0; k < x.length; k++) {
                y[i] += J[i][k] * x[k];
            }
        }
        return y;
    }

    @Test
    void recoversTheCostsThatProducedTheTargets() {
        double[] truth = {2500, 4000, 9000};
        CostFit fit = new CostFit(COSTS, X0, observe(X0), J);
        double[] x = fit.fit(observe(truth));
        for (int k = 0; k < truth.length; k++) {
            assertThat(x[k]).as(COSTS.get(k).key()).isCloseTo(truth[k], within(truth[k] * 1e-6));
        }
        double[] predicted = fit.predict(x);
        double[] target = observe(truth);
        for (int i = 0; i < target.length; i++) {
            assertThat(predicted[i]).isCloseTo(target[i], within(Math.abs(target[i]) * 1e-6));
        }
    }

    @Test
    void costsNeverGoNegative() {
        // Targets no non-negative costs can reach exactly: the copy runs faster than the plain ones.
        double[] target = observe(new double[] {2500, 4000, 0});
        target[4] *= 0.5;
        target[5] *= 0.5;
        double[] x = new CostFit(COSTS, X0, observe(X0), J).fit(target);
        for (double v : x) {
            assertThat(v).isGreaterThanOrEqualTo(0);
        }
    }
}
