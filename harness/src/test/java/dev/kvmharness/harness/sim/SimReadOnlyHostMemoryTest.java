// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.HostBuffer;
import dev.kvmharness.harness.Sregs;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Insn;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.x86.CompiledGuest;
import dev.kvmharness.harness.x86.PageSize;
import dev.kvmharness.harness.x86.X86Compiler;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What mmu_stress_test needs from the simulator, through the harness API: a memslot over a test-owned memfd,
 * a guest store that KVM_RUN fails with EFAULT once the host mm maps the memory PROT_READ (the host mm
 * refuses the write in kvm_faultin_pfn(); no special case), RIP pointing at the store afterwards and stepping
 * past it by its x86 length, writes working again after mprotect back, and the CR0.WP reset through SREGS.
 */
class SimReadOnlyHostMemoryTest {
    private static final long GPA = 1L << 32;

    /** Stores r0 to (r0) twice, syncing after each: the store of RBX to (RBX) is 3 bytes of x86 code. */
    private static final GuestProgram STORES = GuestProgram.define("stores", g -> {
        Reg start = g.arg(0);
        Reg a = g.arg(5);
        g.mov(a, start);
        g.store64(a, 0, a);
        g.sync(0);
        g.store64(a, 8, a);
        g.sync(1);
    });

    private static int storeIndex(GuestProgram p, int nth) {
        int seen = 0;
        for (int i = 0; i < p.instructions().size(); i++) {
            if (p.instructions().get(i) instanceof Insn.Store && seen++ == nth) {
                return i;
            }
        }
        throw new AssertionError("no store #" + nth);
    }

    @Test
    void aWriteToReadOnlyHostMemoryFailsKvmRunWithEfaultAndRipCanStepOverIt() {
        Vm vm = new SimBackend(SimOptions.defaults(1)).createVm(VmShape.of(STORES, 1).withExtraMemPages(8)
                .withRunTimeout(Duration.ofSeconds(5)));
        try {
            HostBuffer mem = vm.memfdAlloc(1L << 30, false);
            mem.write8(0, (byte) 0xaa);
            vm.setUserMemoryRegion(1, 0, GPA, 1L << 30, mem.hva());
            vm.virtMap(GPA, GPA, 1L << 30, PageSize.SIZE_1G);
            Vcpu v = vm.vcpu(0);
            v.setArgs(GPA);
            mem.mprotect(0, 1L << 30, false);

            CompiledGuest code = X86Compiler.compile(STORES);
            int first = storeIndex(STORES, 0);
            long storeRip = SimGuestVcpu.CODE_GVA + code.insnOffsets()[first];
            assertThat(v.tryRun()).as("errno").isEqualTo(14);
            assertThat(v.rip()).isEqualTo(storeRip);
            assertThat(code.insnOffsets()[first + 1] - code.insnOffsets()[first]).as("store length").isEqualTo(3);
            // Still read-only: the same store fails again.
            assertThat(v.tryRun()).isEqualTo(14);
            v.setRip(v.rip() + 3);
            assertThat(v.tryRun()).isZero();
            assertThat(v.ucall().kind()).isEqualTo(Ucall.Kind.SYNC);
            assertThat(v.ucall().stage()).isZero();
            assertThat(mem.read64(0) & 0xff).as("the skipped store wrote nothing").isEqualTo(0xaa);

            mem.mprotect(0, 1L << 30, true);
            Sregs s = v.sregs();
            v.setSregs(s.withCr0(s.cr0() ^ Sregs.CR0_WP));
            assertThat(v.sregs().cr0() & Sregs.CR0_WP).isEqualTo(Sregs.CR0_WP);
            assertThat(v.tryRun()).isZero();
            assertThat(v.ucall().stage()).isEqualTo(1);
            assertThat(mem.read64(8)).isEqualTo(GPA);
        } finally {
            vm.exitWithoutCleanup();
        }
        SimVm simVm = (SimVm) vm;
        assertThat(simVm.kvm().isDestroyed()).isTrue();
        assertThat(simVm.kvm().mm().isClosed()).isTrue();
    }
}
