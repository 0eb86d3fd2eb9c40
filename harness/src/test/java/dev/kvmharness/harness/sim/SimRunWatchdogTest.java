// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.GuestTimeoutException;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The simulator's KVM_RUN watchdog judges a working guest by virtual time only: how long the host took to
 * simulate it (a loaded machine, an older JVM) must not change the result of a seed.
 */
class SimRunWatchdogTest {
    /** Three million instructions: about 3 ms of virtual time at 1 ns each, far more than 5 ms to interpret. */
    private static final GuestProgram COUNT = GuestProgram.define("count", g -> {
        Reg i = g.temp();
        g.mov(i, 0);
        g.whileTrue(Cond.ULT, i, 1_000_000, () -> g.add(i, 1));
        g.done();
    });

    private static Vm vm(GuestProgram p, Duration runTimeout) {
        return new SimBackend(SimOptions.defaults(7)).createVm(VmShape.of(p, 1).withRunTimeout(runTimeout));
    }

    @Test
    void aGuestWithinItsVirtualLimitIsNotKickedOutHoweverLongTheHostTakes() {
        // Interpreting 3 M instructions takes well over 5 ms of wall time on any host; a wall-time deadline
        // would kick this guest out. 20 ms of virtual time is ample.
        try (Vm vm = vm(COUNT, Duration.ofMillis(20))) {
            assertThat(vm.vcpu(0).runToUcall().kind())
                    .as("a guest needing ~3 ms of virtual time under a 20 ms virtual limit must finish,"
                            + " whatever the wall time (the watchdog must not judge a working guest by wall time)")
                    .isEqualTo(Ucall.Kind.DONE);
        }
    }

    @Test
    void aGuestPastItsVirtualLimitIsKickedOutWithAMessageNamingTheLimit() {
        try (Vm vm = vm(COUNT, Duration.ofMillis(1))) {
            assertThatThrownBy(() -> vm.vcpu(0).run())
                    .isInstanceOfSatisfying(GuestTimeoutException.class,
                            e -> assertThat(e.limit()).isEqualTo(GuestTimeoutException.Limit.VIRTUAL))
                    .hasMessageContaining("vCPU 0 did not exit to the host within 1 ms of virtual time")
                    .hasMessageContaining("--run-timeout");
        }
    }

    @Test
    void theVirtualLimitTripsAtTheSameGuestInstructionOnEveryRun() {
        // Determinism: when the limit trips, in virtual time, depends on the seed alone.
        long first = virtualTimeAtTimeout();
        assertThat(first).isGreaterThan(1_000_000L);
        assertThat(virtualTimeAtTimeout()).isEqualTo(first);
    }

    private static long virtualTimeAtTimeout() {
        try (Vm vm = vm(COUNT, Duration.ofMillis(1))) {
            long start = vm.host().nanoTime();
            assertThatThrownBy(() -> vm.vcpu(0).run()).isInstanceOf(GuestTimeoutException.class);
            return vm.host().nanoTime() - start;
        }
    }
}
