// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.junit.RequiresKvm;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The guest's {@code lfence; rdtsc} on real KVM: it advances, and at KVM_GET_TSC_KHZ it agrees with host time. */
@RequiresKvm
class ReadTscIT {
    @Test
    void guestTscAdvancesAtTheRateKvmReports() {
        GuestProgram p = GuestProgram.define("tsc_spin", g -> {
            Reg t0 = g.temp();
            Reg t1 = g.temp();
            Reg i = g.temp();
            g.readTsc(t0);
            g.mov(i, 0);
            g.whileTrue(Cond.ULT, i, 200_000, () -> g.add(i, 1));
            g.readTsc(t1);
            g.sync(t0);
            g.sync(t1);
            g.done();
        });
        try (Vm vm = new KvmBackend().createVm(VmShape.of(p, 1).withRunTimeout(Duration.ofSeconds(30)))) {
            long khz = vm.tscKhz();
            assertThat(khz).isBetween(100_000L, 10_000_000L); // 100 MHz .. 10 GHz
            long hostStart = System.nanoTime();
            Ucall first = vm.vcpu(0).runToUcall();
            Ucall second = vm.vcpu(0).runToUcall();
            long hostNs = System.nanoTime() - hostStart;
            long ticks = second.stage() - first.stage();
            assertThat(ticks).isPositive();
            long guestNs = ticks * 1_000_000L / khz;
            // The guest's interval lies inside the host's (both run on the same clock source, the TSC).
            assertThat(guestNs).isPositive().isLessThanOrEqualTo(hostNs);
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }
    }
}
