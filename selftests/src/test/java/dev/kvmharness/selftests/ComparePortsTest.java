// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A port that lands in the runner can be compared: one registration, checked here. */
class ComparePortsTest {
    @Test
    void everyPortOfTheRunnerIsComparable() {
        assertThat(ComparePorts.names()).as("ComparePorts against Main.TESTS").containsExactlyInAnyOrderElementsOf(Main.TESTS);
        assertThat(ComparePorts.extraOptions("demand_paging_test")).containsExactly("--touch-latency");
    }
}
