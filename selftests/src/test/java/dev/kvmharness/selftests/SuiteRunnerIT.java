// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.junit.RequiresKvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The main job on /dev/kvm: no test name runs every port (here one shard of them), kselftest-runner style. */
@RequiresKvm
class SuiteRunnerIT {

    @Test
    void runsTheFirstHalfOfThePortsAndPrintsTap() throws Exception {
        // Half the suite in-process; ContainerIT runs the other half in a container, so every port runs on
        // /dev/kvm through the runner once (ci/matrix.sh runs each alone in both places).
        SelftestsJar.Result r = SelftestsJar.run(600, "--backend", "kvm", "--shard", "1/2");
        List<String> tests = KvmSuiteExpectations.shard(1, 2);
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).startsWith("TAP version 13\n1.." + tests.size() + "\n")
                .contains("# selftests: kvm: demand_paging_test\n")
                .contains("# Overall demand paging rate:");
        for (String line : KvmSuiteExpectations.lines(tests)) {
            assertThat(r.out()).contains(line);
        }
    }

    @Test
    void aTimeoutIsReportedNotHung() throws Exception {
        // One second is far too short for the default 1 GiB run: the runner must kill it and say so.
        SelftestsJar.Result r = SelftestsJar.run(120, "--backend", "kvm", "--timeout", "1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("not ok 1 selftests: kvm: demand_paging_test # TIMEOUT 1 seconds");
    }
}
