// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.mmu.sched.Cost;
import java.util.List;
import org.apache.commons.math3.fitting.leastsquares.LeastSquaresBuilder;
import org.apache.commons.math3.fitting.leastsquares.LeastSquaresOptimizer;
import org.apache.commons.math3.fitting.leastsquares.LevenbergMarquardtOptimizer;
import org.apache.commons.math3.fitting.leastsquares.MultivariateJacobianFunction;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.DiagonalMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.apache.commons.math3.util.Pair;

/**
 * The least-squares fit behind calibrate. A simulated run's virtual times are sums of charged costs, so around the
 * defaults each observable (a run's total guest time, its p50 first-touch latency) is {@code y0 + J (x − x0)}, J
 * measured by re-running the simulator with one cost raised at a time. Levenberg–Marquardt (Commons Math) then
 * finds costs x ≥ 0 minimising the squared <em>relative</em> errors against the real medians, so that a 3 s total
 * and a 10 µs latency weigh alike.
 *
 * @param costs the fitted Cost keys, in column order
 * @param x0 their values where J was measured
 * @param y0 the simulator's observables at x0
 * @param jacobian d observable / d cost, one row per observable
 */
record CostFit(List<Cost> costs, double[] x0, double[] y0, double[][] jacobian) {

    /** The fitted costs (ns, ≥ 0) for the real observables {@code target}. */
    double[] fit(double[] target) {
        int m = target.length;
        int n = costs.size();
        RealMatrix j = new Array2DRowRealMatrix(jacobian);
        MultivariateJacobianFunction model = point -> {
            RealVector x = point;
            RealVector y = new ArrayRealVector(y0).add(j.operate(x.subtract(new ArrayRealVector(x0))));
            return new Pair<>(y, j);
        };
        double[] w = new double[m];
        for (int i = 0; i < m; i++) {
            w[i] = 1.0 / (target[i] * target[i]);
        }
        LeastSquaresOptimizer.Optimum opt = new LevenbergMarquardtOptimizer().optimize(new LeastSquaresBuilder()
                .model(model)
                .target(target)
                .start(x0)
                .weight(new DiagonalMatrix(w))
                // A cost is a duration: clamp at 0 rather than let a collinear pair go negative.
                .parameterValidator(p -> {
                    RealVector q = p.copy();
                    for (int i = 0; i < n; i++) {
                        q.setEntry(i, Math.max(0, q.getEntry(i)));
                    }
                    return q;
                })
                .maxEvaluations(10_000)
                .maxIterations(10_000)
                .build());
        return opt.getPoint().toArray();
    }

    /** What the linear model predicts at {@code x} (the fit's own view; calibrate re-runs the simulator to check). */
    double[] predict(double[] x) {
        double[] y = y0.clone();
        for (int i = 0; i < y.length; i++) {
            for (int k = 0; k < x.length; k++) {
                y[i] += jacobian[i][k] * (x[k] - x0[k]);
            }
        }
        return y;
    }
}
