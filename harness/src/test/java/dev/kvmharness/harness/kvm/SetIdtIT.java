// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.junit.RequiresKvm;
import dev.kvmharness.kvm.bindings.KvmSregs;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The SetIdt lowering on /dev/kvm, which only the real backend can show (KVM_GET_SREGS). What guest programs do
 * on both backends is {@link dev.kvmharness.harness.GuestProgramsIT}.
 */
@RequiresKvm
class SetIdtIT {
    private static final KvmBackend KVM = new KvmBackend();
    /** A data page mapped for the guest at this gva, backed by memslot 1. */
    private static final long DATA_GVA = 0x10_0000_0000L;
    private static final long DATA_GPA = 0x1_0000_0000L;

    private static Vm vm(GuestProgram p) {
        Vm vm = KVM.createVm(VmShape.of(p, 1).withRunTimeout(Duration.ofSeconds(30)));
        vm.addRegion(BackingSource.ANONYMOUS, DATA_GPA, 1, 16, 0);
        vm.virtMap(DATA_GVA, DATA_GPA, 16 * 4096);
        return vm;
    }

    /** The SetIdt lowering on real hardware: the IDTR KVM reports after the guest's lidt is the IR's base and limit. */
    @Test
    void setIdtLoadsTheIdtRegister() {
        GuestProgram p = GuestProgram.define("lidt", g -> {
            Reg base = g.arg(0);
            Reg limit = g.arg(1);
            g.setIdt(base, limit);
            g.sync(1);
            g.done();
        });
        try (Vm vm = vm(p)) {
            vm.vcpu(0).setArgs(0xc000_0000L, 0x1_0fffL);
            assertThat(vm.vcpu(0).runToUcall().stage()).isEqualTo(1);
            KvmSregs sregs = ((KvmVcpu) vm.vcpu(0)).kvmSregs();
            assertThat(sregs.idtBase()).isEqualTo(0xc000_0000L);
            assertThat(sregs.idtLimit()).as("the low 16 bits of the limit register").isEqualTo(0x0fff);
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }
    }
}
