// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.junit.RequiresKvm;
import org.junit.jupiter.api.Test;

/** The main job: no test name runs every port, kselftest-runner style. */
@RequiresKvm
class SuiteRunnerIT {

    @Test
    void runsEveryPortAndPrintsTap() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(600, "--backend", "kvm");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).startsWith("TAP version 13\n1.." + Main.TESTS.size() + "\n")
                .contains("# selftests: kvm: demand_paging_test\n")
                .contains("# Overall demand paging rate:")
                .contains("ok 1 selftests: kvm: demand_paging_test\n")
                .contains("# selftests: kvm: set_memory_region_test\n");
        for (int i = 0; i < Main.TESTS.size(); i++) {
            assertThat(r.out()).contains("ok " + (i + 1) + " selftests: kvm: " + Main.TESTS.get(i) + "\n");
        }
        assertThat(r.out())
                .contains("# Totals: pass:" + Main.TESTS.size() + " fail:0 xfail:0 xpass:0 skip:0 error:0\n");
    }

    @Test
    void aTimeoutIsReportedNotHung() throws Exception {
        // One second is far too short for the default 1 GiB run: the runner must kill it and say so.
        SelftestsJar.Result r = SelftestsJar.run(120, "--backend", "kvm", "--timeout", "1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("not ok 1 selftests: kvm: demand_paging_test # TIMEOUT 1 seconds");
    }
}
