// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.GuestProgram;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.EventType;

/**
 * The JUnit 5 extension, run the way a user's suite runs it: sample test methods executed by the Jupiter
 * engine (EngineTestKit), one per behaviour, on both backends of this machine.
 */
class OnBackendsIT {
    public static final class SyncThenDone implements Supplier<GuestProgram> {
        @Override
        public GuestProgram get() {
            return GuestProgram.define("sync_then_done", g -> {
                g.sync(7);
                g.done();
            });
        }
    }

    /** Not run by Failsafe itself (a static nested class without @Nested); the tests below run its methods. */
    static class Samples {
        @OnBackends
        @WithVm(program = SyncThenDone.class, runTimeoutSeconds = 10)
        void runsTheGuest(Vm vm, Backend backend) {
            assertThat(vm.backend().name()).isEqualTo(backend.name());
            Ucall uc = vm.vcpu(0).runToUcall();
            assertThat(uc.stage()).isEqualTo(7);
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }

        @OnBackends
        void kselftestSkip(Backend backend) {
            throw new TestSkipped("needs something this host lacks");
        }

        @OnBackends("sim")
        void fails(Backend backend) {
            throw new AssertionError("the guest saw 2");
        }

        @OnBackends
        @RequiresHostCap(HostCap.GB_PAGES)
        void needsGbPages(Backend backend) {
        }
    }

    private static EngineExecutionResults run(String method, Class<?>... params) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectMethod(Samples.class, method, params)).execute();
    }

    private static List<Event> finished(EngineExecutionResults r) {
        return r.testEvents().finished().list();
    }

    @Test
    void aTestRunsOncePerBackendWithItsVmAndReportsTheStatsDelta() {
        EngineExecutionResults r = run("runsTheGuest", Vm.class, Backend.class);
        assertThat(r.testEvents().succeeded().count()).as("[sim] and [kvm] both pass").isEqualTo(2);
        assertThat(r.testEvents().started().list()).extracting(e -> e.getTestDescriptor().getDisplayName())
                .containsExactly("[sim]", "[kvm]");
        List<Map<String, String>> reports = r.testEvents().reportingEntryPublished().list().stream()
                .map(e -> e.getPayload(ReportEntry.class).orElseThrow().getKeyValuePairs()).toList();
        assertThat(reports).hasSize(2);
        assertThat(reports.get(0)).containsKey("kvm.sim.vcpu.exits");
        assertThat(reports.get(1)).containsKey("kvm.kvm.vcpu.exits");
        assertThat(Long.parseLong(reports.get(0).get("kvm.sim.vcpu.io_exits"))).as("two ucalls").isEqualTo(2);
    }

    @Test
    void aKselftestSkipIsAbortedNeverPassed() {
        EngineExecutionResults r = run("kselftestSkip", Backend.class);
        assertThat(r.testEvents().aborted().count()).isEqualTo(2);
        assertThat(r.testEvents().succeeded().count()).isZero();
        Throwable t = r.testEvents().aborted().list().get(0).getPayload(TestExecutionResult.class).orElseThrow()
                .getThrowable().orElseThrow();
        assertThat(t).hasMessageContaining("needs something this host lacks");
    }

    @Test
    void aSimFailureNamesTheSeedThatReplaysIt() {
        EngineExecutionResults r = run("fails", Backend.class);
        assertThat(r.testEvents().failed().count()).isEqualTo(1);
        Throwable t = r.testEvents().failed().list().get(0).getPayload(TestExecutionResult.class).orElseThrow()
                .getThrowable().orElseThrow();
        assertThat(t).hasMessage("[sim] the guest saw 2");
        assertThat(t.getCause()).hasMessage("the guest saw 2");
        assertThat(t.getSuppressed()).extracting(Throwable::getMessage)
                .anySatisfy(m -> assertThat(m).contains("seed 0x6b8b4567").contains("-Dkvmharness.seed=0x6b8b4567"));
    }

    @Test
    void aMissingHostCapabilitySkipsWithItsName() {
        EngineExecutionResults r = run("needsGbPages", Backend.class);
        List<Event> skipped = r.testEvents().skipped().list();
        // this host's KVM offers no 1 GiB guest pages; the simulator does
        assertThat(skipped).extracting(e -> e.getPayload(String.class).orElse(""))
                .anySatisfy(reason -> assertThat(reason).startsWith("kvm host lacks GB_PAGES (1 GiB guest pages"));
        assertThat(finished(r).size() + skipped.size()).isEqualTo(2);
        assertThat(r.testEvents().filter(e -> e.getType() == EventType.FINISHED).count()).isEqualTo(finished(r).size());
    }
}
