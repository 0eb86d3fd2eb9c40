// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static dev.kvmharness.harness.junit.EngineRuns.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.GuestBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.EventType;

/**
 * {@code @OnBackends} on a class: its {@code @TestTemplate} methods run on the class's backends, with the
 * class's {@code @WithVm}; a method's own {@code @OnBackends} wins; {@code @Nested} classes inherit it; plain
 * {@code @Test} and {@code @ParameterizedTest} methods are left as they are.
 */
class ClassLevelOnBackendsIT {
    static void done(GuestBuilder g) {
        g.done();
    }

    /** Run through EngineTestKit by the tests below, not by Failsafe itself. */
    @OnBackends("sim")
    @WithVm(guest = "done", runTimeoutSeconds = 10)
    static class Samples {
        @TestTemplate
        void onTheClasssBackends(Vm vm) {
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }

        @OnBackends({"sim", "kvm"})
        void ownBackends(Backend backend) {
        }

        @Test
        void plainTest() {
        }

        @ParameterizedTest
        @ValueSource(ints = {1, 2, 3})
        void parameterized(int i) {
        }

        @Nested
        class Inner {
            @TestTemplate
            void inheritsTheOuterClasss(Vm vm, Backend backend) {
                assertThat(backend.name()).isEqualTo("sim");
                assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
            }
        }
    }

    /** Each test method's runs (succeeded or skipped), by method name. */
    private static Map<String, List<String>> runsByMethod(EngineExecutionResults r) {
        Map<String, List<String>> runs = new TreeMap<>();
        for (Event e : r.testEvents().list()) {
            if (e.getType() != EventType.FINISHED
                    && e.getType() != EventType.SKIPPED) {
                continue;
            }
            String method = e.getTestDescriptor().getUniqueId().getSegments().stream()
                    .filter(s -> s.getType().equals("test-template") || s.getType().equals("method"))
                    .map(s -> s.getValue().substring(0, s.getValue().indexOf('('))).findFirst().orElseThrow();
            runs.computeIfAbsent(method, k -> new ArrayList<>()).add(e.getTestDescriptor().getDisplayName());
        }
        return runs;
    }

    @Test
    void theClasssTemplatesRunOnItsBackendsAndTheRestAsTheyWere() {
        EngineExecutionResults r = run(Samples.class);
        assertThat(r.testEvents().failed().list()).as("failures").isEmpty();
        Map<String, List<String>> runs = runsByMethod(r);
        assertThat(runs).containsEntry("onTheClasssBackends", List.of("[sim]"))
                .containsEntry("ownBackends", List.of("[sim]", "[kvm]"))
                .containsEntry("plainTest", List.of("plainTest()"))
                .containsEntry("inheritsTheOuterClasss", List.of("[sim]"));
        assertThat(runs.get("parameterized")).as("no backend runs mixed into a @ParameterizedTest").hasSize(3)
                .noneMatch(n -> n.equals("[sim]") || n.equals("[kvm]"));
    }
}
