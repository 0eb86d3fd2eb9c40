// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static dev.kvmharness.harness.junit.EngineRuns.kvmHere;
import static dev.kvmharness.harness.junit.EngineRuns.run;
import static dev.kvmharness.harness.junit.EngineRuns.thrown;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.GuestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/** {@code Vcpu} parameters: the n-th is vCPU n of the test's first VM, made for them where no {@code Vm} is asked. */
class VcpuParameterIT {
    static void syncThenDone(GuestBuilder g) {
        g.sync(3);
        g.done();
    }

    /** Run through EngineTestKit by the tests below, not by Failsafe itself. */
    @WithVm(guest = "syncThenDone", runTimeoutSeconds = 10)
    static class Samples {
        @OnBackends
        void vcpuOfTheVm(Vm vm, Vcpu vcpu) {
            assertThat(vcpu).isSameAs(vm.vcpu(0));
        }

        @OnBackends
        void vcpuAlone(Vcpu vcpu) {
            assertThat(vcpu.id()).isZero();
            assertThat(vcpu.runToUcall().stage()).isEqualTo(3);
            assertThat(vcpu.runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }

        @OnBackends
        @WithVm(guest = "syncThenDone", vcpus = 2, runTimeoutSeconds = 10)
        void twoVcpus(Vcpu first, Vm vm, Vcpu second) {
            assertThat(first).isSameAs(vm.vcpu(0));
            assertThat(second).isSameAs(vm.vcpu(1));
            assertThat(second.runToUcall().stage()).as("vCPU 1 runs the program too").isEqualTo(3);
        }

        @OnBackends("sim")
        void moreVcpusThanTheVmHas(Vcpu first, Vcpu second) {
        }
    }

    @Test
    void aVcpuIsVcpuZeroOfTheTestsVm() {
        assertThat(run(Samples.class, "vcpuOfTheVm", Vm.class, Vcpu.class).testEvents().succeeded().count())
                .isEqualTo(kvmHere() ? 2 : 1);
    }

    @Test
    void aVcpuAloneGetsAVmMadeForIt() {
        assertThat(run(Samples.class, "vcpuAlone", Vcpu.class).testEvents().succeeded().count()).isEqualTo(kvmHere() ? 2 : 1);
    }

    @Test
    void theNthVcpuParameterIsVcpuN() {
        EngineExecutionResults r = run(Samples.class, "twoVcpus", Vcpu.class, Vm.class, Vcpu.class);
        assertThat(r.testEvents().failed().list()).isEmpty();
        assertThat(r.testEvents().succeeded().count()).isEqualTo(kvmHere() ? 2 : 1);
    }

    @Test
    void askingForMoreVcpusThanTheVmHasSaysSo() {
        EngineExecutionResults r = run(Samples.class, "moreVcpusThanTheVmHas", Vcpu.class, Vcpu.class);
        assertThat(thrown(r.testEvents().failed().list().get(0)))
                .hasMessageContaining("parameter 1 is vCPU 1, but the VM has 1 vCPU(s)");
    }
}
