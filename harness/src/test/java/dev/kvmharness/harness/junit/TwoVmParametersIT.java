// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static dev.kvmharness.harness.junit.EngineRuns.kvmHere;
import static dev.kvmharness.harness.junit.EngineRuns.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.junit.ProcessResources;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/** Several {@code Vm} parameters: each a VM of its own, each closed after the test, each with its stats. */
class TwoVmParametersIT {
    /** The VMs the samples were handed, by backend, to look at after the engine closed them. */
    static final List<Vm> SIM_VMS = new ArrayList<>();
    /** kvm fds (/dev/kvm, VM, vCPU, stats) open while the kvm run's two VMs were. */
    static long kvmFdsDuringRun = -1;

    static void syncThenDone(GuestBuilder g) {
        g.sync(7);
        g.done();
    }

    /** Run through EngineTestKit by the tests below, not by Failsafe itself. */
    static class Samples {
        @OnBackends
        @WithVm(guest = "dev.kvmharness.harness.junit.TwoVmParametersIT#syncThenDone", runTimeoutSeconds = 10)
        void twoVms(Vm first, Backend backend, Vm second) {
            assertThat(first).isNotSameAs(second);
            assertThat(first.vcpu(0).runToUcall().stage()).isEqualTo(7);
            // the second VM's guest is its own: still at its first ucall
            assertThat(second.vcpu(0).runToUcall().stage()).isEqualTo(7);
            assertThat(second.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
            if (backend.name().equals("sim")) {
                SIM_VMS.add(first);
                SIM_VMS.add(second);
            } else {
                kvmFdsDuringRun = ProcessResources.kvmFds();
            }
        }
    }

    @Test
    void eachVmParameterIsItsOwnVmAndEveryOneIsClosed() {
        SIM_VMS.clear();
        long kvmFdsBefore = ProcessResources.kvmFds();
        EngineExecutionResults r = run(Samples.class, "twoVms", Vm.class, Backend.class, Vm.class);
        assertThat(r.testEvents().succeeded().count()).isEqualTo(kvmHere() ? 2 : 1);

        assertThat(SIM_VMS).hasSize(2);
        for (int i = 0; i < SIM_VMS.size(); i++) {
            Vm vm = SIM_VMS.get(i);
            // a closed simulated VM has no host memory left: a host read finds the mm torn down
            assertThat(catchThrowable(() -> vm.read64(0))).as("sim VM parameter %d of 2 closed after the test", i + 1)
                    .isNotNull().hasMessageContaining("torn down");
        }
        if (kvmHere()) {
            // each VM holds at least its VM fd, a vCPU fd and /dev/kvm: two VMs, at least six
            assertThat(kvmFdsDuringRun - kvmFdsBefore).as("kvm fds while both VMs were open").isGreaterThanOrEqualTo(6);
            assertThat(ProcessResources.kvmFds()).as("kvm fds after the run: both VMs closed").isEqualTo(kvmFdsBefore);
        }
    }

    @Test
    void eachVmPublishesItsOwnStatsDelta() {
        EngineExecutionResults r = run(Samples.class, "twoVms", Vm.class, Backend.class, Vm.class);
        List<Map<String, String>> reports = r.testEvents().reportingEntryPublished().list().stream()
                .map(e -> e.getPayload(ReportEntry.class).orElseThrow().getKeyValuePairs()).toList();
        Map<String, String> sim = reports.stream().filter(m -> m.keySet().stream().anyMatch(k -> k.startsWith("kvm.sim.")))
                .reduce((a, b) -> {
                    Map<String, String> both = new HashMap<>(a);
                    both.putAll(b);
                    return both;
                }).orElseThrow();
        // the first VM ran one ucall, the second two
        assertThat(sim.get("kvm.sim.vcpu.io_exits")).isEqualTo("1");
        assertThat(sim.get("kvm.sim.vm1.vcpu.io_exits")).isEqualTo("2");
    }
}
