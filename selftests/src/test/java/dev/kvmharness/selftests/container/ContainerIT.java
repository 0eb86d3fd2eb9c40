// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.junit.RequiresKvm;
import dev.kvmharness.selftests.KvmSuiteExpectations;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The selftests inside a container started by Testcontainers: with /dev/kvm passed in, and without it. */
@RequiresDocker
class ContainerIT {

    @Test
    @RequiresKvm
    void demandPagingWithUserfaultfdPassesInAContainer() throws Exception {
        SelftestsContainer.Result r = SelftestsContainer.run(SelftestsContainer.Access.KVM_USERFAULTFD, "demand_paging_test",
                "--backend", "kvm", "-u", "MISSING", "-b", "16M", "--stats");
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages")
                .containsPattern("Overall demand paging rate:\t\\d+\\.\\d{6} pgs/sec")
                // the image has the shim outside its noexec /tmp (build-context.sh) where the jar has it
                .contains(Boolean.getBoolean("kvmharness.jni.built") ? "Backend native_calls: JNI" : "Backend native_calls: JNA (");
    }

    @Test
    @RequiresKvm
    void theSuiteRunsInAContainer() throws Exception {
        // non-root, no capabilities, /dev/kvm through its group; the second half of the suite (SuiteRunnerIT runs
        // the first in-process, ci/matrix.sh every port in a container), which also shows --shard working in the image
        SelftestsContainer.Result r = SelftestsContainer.run(SelftestsContainer.Access.KVM, "--backend", "kvm", "--shard", "2/2");
        List<String> tests = KvmSuiteExpectations.shard(2, 2);
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).startsWith("TAP version 13\n1.." + tests.size() + "\n");
        for (String line : KvmSuiteExpectations.lines(tests)) {
            assertThat(r.out()).contains(line);
        }
    }

    @Test
    void withoutKvmInTheContainerTheTestSkips() throws Exception {
        SelftestsContainer.Result r = SelftestsContainer.run(SelftestsContainer.Access.NONE, "demand_paging_test", "--backend", "kvm", "-b", "4M");
        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(r.out()).contains("1..0 # SKIP /dev/kvm not present");
    }

    /** The laptop case: no /dev/kvm at all, and the default backend (the simulator) still runs the test. */
    @Test
    void withoutKvmTheSimulatorStillRunsIt() throws Exception {
        SelftestsContainer.Result r = SelftestsContainer.run(SelftestsContainer.Access.NONE, "demand_paging_test", "-u", "MISSING", "-b", "4M");
        assertThat(r.exitCode()).as(r.out()).isZero();
        assertThat(r.out()).contains("All vCPU threads joined").contains("Overall demand paging rate:");
    }
}
