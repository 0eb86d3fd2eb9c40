// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The permutation test's p-values on samples whose answer is known by counting. */
class PermutationTestTest {
    @Test
    void fullySeparatedFiveAndFiveGiveTheSmallestExactPValue() {
        double p = PermutationTest.pValue(new double[] {1, 2, 3, 4, 5}, new double[] {11, 12, 13, 14, 15});
        // Of the C(10,5) = 252 labellings only the observed one and its mirror are as extreme.
        assertThat(p).isCloseTo(2.0 / 252, within(1e-12));
    }

    @Test
    void identicalSamplesAreNeverSignificant() {
        assertThat(PermutationTest.pValue(new double[] {7, 7, 7}, new double[] {7, 7, 7})).isEqualTo(1.0);
    }

    @Test
    void interleavedSamplesAreNotSignificant() {
        assertThat(PermutationTest.pValue(new double[] {1, 4, 5, 8, 9}, new double[] {2, 3, 6, 7, 10})).isGreaterThan(0.5);
    }

    @Test
    void largeSamplesAreResampledReproducibly() {
        double[] a = new double[12];
        double[] b = new double[12];
        for (int i = 0; i < 12; i++) {
            a[i] = i;
            b[i] = 100 + i;
        }
        // C(24,12) > the exact limit: Monte Carlo; no random labelling is as extreme as the observed one.
        double p = PermutationTest.pValue(a, b);
        assertThat(p).isCloseTo(1.0 / (PermutationTest.RESAMPLES + 1), within(1e-6));
        assertThat(PermutationTest.pValue(a, b)).isEqualTo(p);
    }

    @Test
    void aConstantSimSampleAgainstANoisyOneOverlappingIt() {
        // Sim rounds are deterministic; real rounds spread around the same value: no evidence of a difference.
        double p = PermutationTest.pValue(new double[] {10, 10, 10, 10, 10}, new double[] {6, 9, 10, 12, 14});
        assertThat(p).isGreaterThan(0.5);
    }

    /** Two samples of these sizes that do not overlap, which reach the smallest p. */
    private static double separatedP(int na, int nb) {
        double[] a = new double[na];
        double[] b = new double[nb];
        for (int i = 0; i < na; i++) {
            a[i] = i;
        }
        for (int i = 0; i < nb; i++) {
            b[i] = 1000 + i;
        }
        return PermutationTest.pValue(a, b);
    }

    @Test
    void smallestPIsWhatSeparatedSamplesGet() {
        // Derived from the counting, checked against pValue itself at every size compare's small runs use.
        for (int[] sizes : new int[][] {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {2, 3}, {3, 5}, {1, 4}, {12, 12}}) {
            assertThat(PermutationTest.smallestP(sizes[0], sizes[1])).as("smallest p for %d + %d", sizes[0], sizes[1])
                    .isCloseTo(separatedP(sizes[0], sizes[1]), within(1e-12));
        }
        assertThat(PermutationTest.smallestP(2, 2)).isCloseTo(1.0 / 3, within(1e-12));
        assertThat(PermutationTest.smallestP(3, 3)).isCloseTo(0.1, within(1e-12));
    }

    @Test
    void fourRoundsPerBackendAreTheFewestThatCanReachFivePercent() {
        assertThat(PermutationTest.roundsFor(0.05)).isEqualTo(4);
        assertThat(PermutationTest.roundsFor(0.01)).isEqualTo(5); // 2/252 ≈ 0.008
    }

    @Test
    void manyRoundsDoNotOverflowTheLabellingCount() {
        // C(80, 40) does not fit a long: resampled, not an arithmetic exception.
        assertThat(separatedP(40, 40)).isCloseTo(1.0 / (PermutationTest.RESAMPLES + 1), within(1e-12));
        assertThat(PermutationTest.smallestP(1000, 1000)).isCloseTo(1.0 / (PermutationTest.RESAMPLES + 1), within(1e-12));
    }
}
