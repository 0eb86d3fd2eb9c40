// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static dev.kvmharness.harness.junit.EngineRuns.capturingStdout;
import static dev.kvmharness.harness.junit.EngineRuns.displayNames;
import static dev.kvmharness.harness.junit.EngineRuns.run;
import static dev.kvmharness.harness.junit.EngineRuns.skipReason;
import static dev.kvmharness.harness.junit.EngineRuns.thrown;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.GuestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.opentest4j.AssertionFailedError;

/**
 * Which backend a run was, wherever a reader looks: the invocation's display name (what Surefire's phrased
 * reports and IDEs show), the failure's message (what Maven's console summary shows), the run line on standard
 * output; and -Dkvmharness.backends choosing one backend.
 */
class InvocationNamesIT {
    /** Run through EngineTestKit by the tests below, not by Failsafe itself. */
    static class Samples {
        @OnBackends({"kvm", "sim"})
        void passes(Backend backend) {
        }

        @OnBackends("sim")
        void assertsEquals(Backend backend) {
            assertEquals(1, 2, "stage");
        }

        @OnBackends("sim")
        void throwsAnError(Backend backend) {
            throw new IllegalStateException("no such slot");
        }

        @OnBackends("sim")
        @WithVm(guest = "guestFails", runTimeoutSeconds = 10)
        void guestAsserts(Vm vm) {
            vm.vcpu(0).runToUcall();
        }
    }

    static void guestFails(GuestBuilder g) {
        g.fail("page not zero");
    }

    @Test
    void eachRunIsDisplayedByItsBackendNotByItsIndex() {
        EngineExecutionResults r = run(Samples.class, "passes", Backend.class);
        // declared kvm first: the names follow the backends, not the invocation index ([1], [2]); a kvm run skipped
        // on a host without /dev/kvm is displayed all the same
        assertThat(r.allEvents().list().stream().filter(e -> e.getTestDescriptor().isTest())
                .map(e -> e.getTestDescriptor().getDisplayName()).distinct().toList()).containsExactly("[kvm]", "[sim]");
    }

    @Test
    void aFailedAssertionLeadsWithTheBackendAndKeepsExpectedAndActual() {
        Throwable t = thrown(run(Samples.class, "assertsEquals", Backend.class).testEvents().failed().list().get(0));
        assertThat(t).isInstanceOf(AssertionFailedError.class).hasMessageStartingWith("[sim] stage ==> expected: <1>");
        AssertionFailedError a = (AssertionFailedError) t;
        assertThat(a.getExpected().getValue()).isEqualTo(1);
        assertThat(a.getActual().getValue()).isEqualTo(2);
        assertThat(t.getStackTrace()[0].getMethodName()).as("the original's stack: the failing line is the test's")
                .isEqualTo(t.getCause().getStackTrace()[0].getMethodName());
    }

    @Test
    void anErrorStaysAnErrorNamedByTheBackend() {
        Throwable t = thrown(run(Samples.class, "throwsAnError", Backend.class).testEvents().failed().list().get(0));
        assertThat(t).isNotInstanceOf(AssertionError.class)
                .hasMessage("[sim] java.lang.IllegalStateException: no such slot")
                .hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void aGuestAssertIsAFailureNamedByTheBackend() {
        Throwable t = thrown(run(Samples.class, "guestAsserts", Vm.class).testEvents().failed().list().get(0));
        assertThat(t).isInstanceOf(AssertionError.class).hasMessageStartingWith("[sim] Failed guest assert: ")
                .hasMessageContaining("page not zero").hasCauseInstanceOf(TestAssertionFailure.class);
    }

    @Test
    void eachRunPrintsOneLineNamingItsBackendAndOutcome() {
        String out = capturingStdout(() -> run(Samples.class)).out();
        assertThat(out).contains("[sim] Samples.passes(Backend): passed\n")
                .contains("[sim] Samples.assertsEquals(Backend): FAILED: stage ==> expected: <1> but was: <2>\n")
                .contains("[sim] Samples.throwsAnError(Backend): FAILED: java.lang.IllegalStateException: no such slot\n");
        assertThat(out).containsPattern("\\[kvm\\] Samples\\.passes\\(Backend\\): (passed|skipped: kvm unavailable: .*)\n");
    }

    @Test
    void theRunLinesCanBeTurnedOff() {
        System.setProperty(RunLine.PROPERTY, "false");
        String out;
        try {
            out = capturingStdout(() -> run(Samples.class, "passes", Backend.class)).out();
        } finally {
            System.clearProperty(RunLine.PROPERTY);
        }
        assertThat(out).doesNotContain("Samples.passes");
    }

    @Test
    void theBackendsPropertyRunsOneBackendAndSkipsTheOtherWithTheReason() {
        System.setProperty(BackendInvocations.BACKENDS_PROPERTY, "sim");
        EngineExecutionResults r;
        try {
            r = run(Samples.class, "passes", Backend.class);
        } finally {
            System.clearProperty(BackendInvocations.BACKENDS_PROPERTY);
        }
        assertThat(displayNames(r.testEvents().succeeded().list())).containsExactly("[sim]");
        assertThat(r.testEvents().skipped().list()).singleElement()
                .satisfies(e -> assertThat(skipReason(e)).isEqualTo("kvm not selected: -Dkvmharness.backends=sim"));
    }

    @Test
    void anUnknownBackendInThePropertyFailsInsteadOfSkippingEverything() {
        System.setProperty(BackendInvocations.BACKENDS_PROPERTY, "smi");
        EngineExecutionResults r;
        try {
            r = run(Samples.class, "passes", Backend.class);
        } finally {
            System.clearProperty(BackendInvocations.BACKENDS_PROPERTY);
        }
        assertThat(r.containerEvents().failed().list()).singleElement()
                .satisfies(e -> assertThat(thrown(e)).hasMessageContaining("unknown backend 'smi'"));
    }
}
