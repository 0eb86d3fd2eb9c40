// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.harness.junit.WithVm;
import java.util.function.Supplier;
import org.assertj.core.groups.Tuple;

/**
 * Guest-program behaviour both backends must share, written once with the project's JUnit extension and run
 * on the simulator and on /dev/kvm (these were two copies, one per backend, before).
 */
class BothBackendsIT {
    public static final class Stages implements Supplier<GuestProgram> {
        @Override
        public GuestProgram get() {
            return GuestProgram.define("stages", g -> {
                Reg i = g.temp();
                g.mov(i, 0);
                g.whileTrue(Cond.ULT, i, 3, () -> {
                    g.sync(i);
                    g.add(i, 1);
                });
                g.sync(42);
                g.done();
            });
        }
    }

    public static final class WildStore implements Supplier<GuestProgram> {
        @Override
        public GuestProgram get() {
            return GuestProgram.define("wild", g -> {
                Reg p = g.temp();
                g.mov(p, 0x7000_0000_0000L);
                g.store64(p, 0, p);
                g.done();
            });
        }
    }

    @OnBackends
    @WithVm(program = Stages.class, runTimeoutSeconds = 30)
    void syncStagesThenDone(Vm vm) {
        Ucall[] seen = new Ucall[4];
        for (int k = 0; k < 4; k++) {
            seen[k] = vm.vcpu(0).runToUcall();
        }
        assertThat(seen).extracting(Ucall::kind, Ucall::stage).containsExactly(Tuple.tuple(Ucall.Kind.SYNC, 0L),
                Tuple.tuple(Ucall.Kind.SYNC, 1L), Tuple.tuple(Ucall.Kind.SYNC, 2L), Tuple.tuple(Ucall.Kind.SYNC, 42L));
        assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
    }

    /** A store to an unmapped gva with no IDT: #PF, then #DF, then a triple fault (or KVM giving up delivering). */
    @OnBackends
    @WithVm(program = WildStore.class, runTimeoutSeconds = 30)
    void aGuestPageFaultWithoutHandlersShutsTheVcpuDown(Vm vm) {
        Exit exit = vm.vcpu(0).run();
        assertThat(exit.reason()).as("exit %s", exit).isIn(Exit.SHUTDOWN, Exit.INTERNAL_ERROR);
        assertThat(vm.vcpu(0).ucall()).isEqualTo(Ucall.NONE);
    }
}
