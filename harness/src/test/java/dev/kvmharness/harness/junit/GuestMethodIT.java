// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static dev.kvmharness.harness.junit.EngineRuns.kvmHere;
import static dev.kvmharness.harness.junit.EngineRuns.run;
import static dev.kvmharness.harness.junit.EngineRuns.thrown;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.GuestProgram;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/**
 * {@code @WithVm(guest = "method")}: the guest program named by a static method, in the test class, an
 * enclosing class or another class ({@code Class#method}), as a builder body or a {@code GuestProgram} factory;
 * every way of naming it wrongly says what is wrong.
 */
class GuestMethodIT {
    /** Found through the enclosing class: the samples class has no such method. */
    static void syncStage(GuestBuilder g) {
        g.sync(11);
        g.done();
    }

    /** Not static: a mistake the extension names. */
    void notStatic(GuestBuilder g) {
        g.done();
    }

    public static final class Program implements Supplier<GuestProgram> {
        @Override
        public GuestProgram get() {
            return GuestProgram.define("p", GuestBuilder::done);
        }
    }

    /** Run through EngineTestKit by the tests below, not by Failsafe itself. */
    static class Samples {
        static GuestProgram factory() {
            return GuestProgram.define("factory", g -> {
                g.sync(12);
                g.done();
            });
        }

        @OnBackends
        @WithVm(guest = "syncStage", runTimeoutSeconds = 10)
        void builderMethod(Vm vm) {
            assertThat(vm.vcpu(0).runToUcall().stage()).isEqualTo(11);
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }

        @OnBackends
        @WithVm(guest = "factory", runTimeoutSeconds = 10)
        void factoryMethod(Vm vm) {
            assertThat(vm.vcpu(0).runToUcall().stage()).isEqualTo(12);
        }

        @OnBackends("sim")
        @WithVm(guest = "dev.kvmharness.harness.junit.GuestMethodIT$Samples#factory", runTimeoutSeconds = 10)
        void qualifiedMethod(Vm vm) {
            assertThat(vm.vcpu(0).runToUcall().stage()).isEqualTo(12);
        }

        @OnBackends("sim")
        @WithVm(guest = "syncStage", program = Program.class)
        void both(Vm vm) {
        }

        @OnBackends("sim")
        @WithVm
        void neither(Vm vm) {
        }

        @OnBackends("sim")
        @WithVm(guest = "noSuchGuest")
        void missing(Vm vm) {
        }

        @OnBackends("sim")
        @WithVm(guest = "notStatic")
        void instanceMethod(Vm vm) {
        }
    }

    @Test
    void aStaticBuilderMethodIsTheGuest() {
        EngineExecutionResults r = run(Samples.class, "builderMethod", Vm.class);
        assertThat(r.testEvents().failed().list()).isEmpty();
        assertThat(r.testEvents().succeeded().count()).isEqualTo(kvmHere() ? 2 : 1);
    }

    @Test
    void aStaticFactoryMethodIsTheGuest() {
        assertThat(run(Samples.class, "factoryMethod", Vm.class).testEvents().succeeded().count()).isEqualTo(kvmHere() ? 2 : 1);
        assertThat(run(Samples.class, "qualifiedMethod", Vm.class).testEvents().succeeded().count()).isEqualTo(1);
    }

    private static String failure(String method) {
        return thrown(run(Samples.class, method, Vm.class).testEvents().failed().list().get(0)).getMessage();
    }

    @Test
    void namingTheGuestWronglySaysHow() {
        assertThat(failure("both")).contains("give exactly one of guest = \"staticMethod\" and program = Supplier.class");
        assertThat(failure("neither")).contains("give exactly one of guest");
        assertThat(failure("missing")).contains("@WithVm(guest = \"noSuchGuest\"): no static method noSuchGuest(GuestBuilder)");
        assertThat(failure("instanceMethod")).contains("notStatic(dev.kvmharness.harness.guest.GuestBuilder) must be static");
    }
}
