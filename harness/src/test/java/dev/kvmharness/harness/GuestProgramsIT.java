// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.OnBackends;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest programs through the harness API on both backends, written once: compiled by the x86 code generator and
 * run on /dev/kvm, interpreted on the simulator. Each instruction's result is reported back through ucalls (or
 * host memory) and compared with the same computation in Java. These were two copies before, one per backend
 * ({@code kvm.GuestProgramsIT} and {@code sim.SimBackendTest}); what only one backend can show stays there
 * ({@code kvm.SetIdtIT}: the IDTR KVM reports; {@code sim.SimBackendTest}: virtual time and determinism).
 */
class GuestProgramsIT {
    /** A data page mapped for the guest at this gva, backed by memslot 1. */
    private static final long DATA_GVA = 0x10_0000_0000L;
    private static final long DATA_GPA = 0x1_0000_0000L;

    private static Vm vm(Backend backend, GuestProgram p) {
        Vm vm = backend.createVm(VmShape.of(p, 1).withRunTimeout(Duration.ofSeconds(30)));
        vm.addRegion(BackingSource.ANONYMOUS, DATA_GPA, 1, 16, 0);
        vm.virtMap(DATA_GVA, DATA_GPA, 16 * 4096);
        return vm;
    }

    /** Runs until DONE, collecting every ucall before it. */
    private static List<Ucall> ucalls(Vm vm, long... args) {
        vm.vcpu(0).setArgs(args);
        List<Ucall> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Ucall uc = vm.vcpu(0).runToUcall();
            if (uc.kind() == Ucall.Kind.DONE) {
                return out;
            }
            out.add(uc);
        }
        throw new AssertionError("no GUEST_DONE after 100 ucalls: " + out);
    }

    @OnBackends
    void aluOpsMatchJavaArithmetic(Backend backend) {
        long a = 0xFEDC_BA98_7654_3210L;
        long b = 0x0000_0001_2345_6789L;
        GuestProgram p = GuestProgram.define("alu", g -> {
            Reg x = g.arg(0);
            Reg y = g.arg(1);
            Reg[] r = new Reg[6];
            for (int i = 0; i < r.length; i++) {
                r[i] = g.temp();
                g.mov(r[i], x);
            }
            g.add(r[0], y);
            g.sub(r[1], y);
            g.mul(r[2], y);
            g.udiv(r[3], y);
            g.urem(r[4], y);
            g.xor(r[5], y);
            g.printf("%lx %lx %lx %lx %lx %lx", r);
            for (Reg reg : r) {
                g.mov(reg, x);
            }
            g.and(r[0], y);
            g.or(r[1], y);
            g.shl(r[2], 13);
            g.shr(r[3], 63);
            g.add(r[4], -1);
            g.mul(r[5], 0x1_0000_0001L);
            g.printf("%lx %lx %lx %lx %lx %lx", r);
            for (Reg reg : r) {
                g.mov(reg, x);
            }
            g.sub(r[0], 0x7fff_ffff);
            g.add(r[1], 0x8000_0000L);
            g.udiv(r[2], 1000);
            g.urem(r[3], 100);
            g.and(r[4], 0xffff_ffff_0000_0000L);
            g.shl(r[5], y);
            g.printf("%lx %lx %lx %lx %lx %lx", r);
            g.done();
        });
        try (Vm vm = vm(backend, p)) {
            List<Ucall> uc = ucalls(vm, a, b);
            assertThat(uc).hasSize(3).allMatch(u -> u.kind() == Ucall.Kind.PRINTF);
            assertThat(uc.get(0).values()).containsExactly(a + b, a - b, a * b, Long.divideUnsigned(a, b),
                    Long.remainderUnsigned(a, b), a ^ b);
            assertThat(uc.get(1).values()).containsExactly(a & b, a | b, a << 13, a >>> 63, a - 1, a * 0x1_0000_0001L);
            assertThat(uc.get(2).values()).containsExactly(a - 0x7fff_ffff, a + 0x8000_0000L, Long.divideUnsigned(a, 1000),
                    Long.remainderUnsigned(a, 100), a & 0xffff_ffff_0000_0000L, a << (b & 63));
            assertThat(uc.get(0).message()).isEqualTo(String.format("%x %x %x %x %x %x", a + b, a - b, a * b,
                    Long.divideUnsigned(a, b), Long.remainderUnsigned(a, b), a ^ b));
        }
    }

    @OnBackends
    void loadsAndStoresOfEveryWidthReachHostMemory(Backend backend) {
        GuestProgram p = GuestProgram.define("memory", g -> {
            Reg base = g.arg(0);
            Reg v = g.arg(1);
            g.store64(base, 0, v);
            g.store32(base, 8, v);
            g.store16(base, 16, v);
            g.store8(base, 24, v);
            Reg r8 = g.temp();
            Reg r16 = g.temp();
            Reg r32 = g.temp();
            Reg r64 = g.temp();
            g.load8(r8, base, 0);
            g.load16(r16, base, 0);
            g.load32(r32, base, 0);
            g.load64(r64, base, 4096);
            g.printf("%lx %lx %lx %lx", r8, r16, r32, r64);
            g.done();
        });
        long v = 0x8877_6655_4433_2211L;
        try (Vm vm = vm(backend, p)) {
            vm.write64(DATA_GPA + 4096, 0xCAFE_F00D_DEAD_BEEFL);
            List<Ucall> uc = ucalls(vm, DATA_GVA, v);
            assertThat(uc.get(0).values()).containsExactly(0x11L, 0x2211L, 0x4433_2211L, 0xCAFE_F00D_DEAD_BEEFL);
            assertThat(vm.read64(DATA_GPA)).isEqualTo(v);
            assertThat(vm.read64(DATA_GPA + 8)).isEqualTo(0x4433_2211L);
            assertThat(vm.read64(DATA_GPA + 16)).isEqualTo(0x2211L);
            assertThat(vm.read64(DATA_GPA + 24)).isEqualTo(0x11L);
        }
    }

    @OnBackends
    void unsignedConditionsBranchCorrectly(Backend backend) {
        GuestProgram p = GuestProgram.define("conds", g -> {
            Reg a = g.arg(0);
            Reg b = g.arg(1);
            Reg bits = g.temp();
            g.mov(bits, 0);
            Cond[] conds = Cond.values();
            for (int i = 0; i < conds.length; i++) {
                int bit = i;
                g.ifTrue(conds[i], a, b, () -> g.or(bits, 1L << bit));
            }
            g.sync(bits);
            g.done();
        });
        long[][] pairs = {{0, -1}, {-1, 0}, {5, 5}, {1L << 63, 1}, {1, 1L << 63}};
        for (long[] pair : pairs) {
            try (Vm vm = vm(backend, p)) {
                long expected = 0;
                Cond[] conds = Cond.values();
                for (int i = 0; i < conds.length; i++) {
                    if (conds[i].test(pair[0], pair[1])) {
                        expected |= 1L << i;
                    }
                }
                assertThat(ucalls(vm, pair[0], pair[1]).get(0).stage()).as("conditions on %x, %x", pair[0], pair[1])
                        .isEqualTo(expected);
            }
        }
    }

    @OnBackends
    void guestAssertFailsTheTestWithTheGuestsMessageAndValues(Backend backend) {
        GuestProgram p = GuestProgram.define("assert", g -> {
            Reg x = g.arg(0);
            g.guestAssert(Cond.ULT, x, 10, "x = %lu is too big", x);
            g.done();
        });
        try (Vm vm = vm(backend, p)) {
            vm.vcpu(0).setArgs(12);
            assertThatThrownBy(() -> vm.vcpu(0).runToUcall()).isInstanceOf(TestAssertionFailure.class)
                    .hasMessageContaining("x = 12 is too big");
        }
        try (Vm vm = vm(backend, p)) {
            vm.vcpu(0).setArgs(3);
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
        }
    }

    @OnBackends
    void guestAndHostSeeTheSameBytes(Backend backend) {
        GuestProgram p = GuestProgram.define("rw", g -> {
            Reg addr = g.arg(0);
            Reg v = g.temp();
            g.load64(v, addr, 8);
            g.add(v, 1);
            g.store64(addr, 0, v);
            g.sync(v);
            g.done();
        });
        try (Vm vm = vm(backend, p)) {
            vm.write64(DATA_GPA + 8, 41);
            vm.vcpu(0).setArgs(DATA_GVA);
            assertThat(vm.vcpu(0).runToUcall().stage()).isEqualTo(42);
            assertThat(vm.read64(DATA_GPA)).isEqualTo(42);
        }
    }

    /** A guest access to a gpa whose memslot was deleted is KVM_EXIT_MMIO at that gpa. */
    @OnBackends
    void aDeletedMemslotIsAnMmioExit(Backend backend) {
        GuestProgram p = GuestProgram.define("read", g -> {
            Reg addr = g.arg(0);
            Reg v = g.temp();
            g.load64(v, addr, 0);
            g.sync(v);
            g.done();
        });
        try (Vm vm = vm(backend, p)) {
            vm.setUserMemoryRegion(1, 0, DATA_GPA, 0, vm.region(1).hva());
            vm.vcpu(0).setArgs(DATA_GVA);
            Exit e = vm.vcpu(0).run();
            assertThat(e.reason()).as("exit %s", e).isEqualTo(Exit.MMIO);
            assertThat(e.detail()).contains("gpa=0x" + Long.toHexString(DATA_GPA));
        }
    }

    /**
     * The run watchdog: a guest that never exits is kicked out after the shape's run timeout. The run is on a
     * host thread and waited for with a bound, so a broken watchdog fails the test instead of hanging it (real
     * seconds on kvm, virtual ones on sim).
     */
    @OnBackends
    void aGuestThatNeverExitsIsKickedOutAtTheDeadline(Backend backend) {
        GuestProgram spin = GuestProgram.define("spin", g -> g.loop(g::pause));
        try (Vm vm = backend.createVm(VmShape.of(spin, 1).withRunTimeout(Duration.ofSeconds(1)))) {
            Host host = vm.host();
            Host.Semaphore ended = host.newSemaphore("ended");
            Throwable[] thrown = new Throwable[1];
            Host.HostThread t = host.startGroup("vcpu", 1, i -> {
                try {
                    vm.vcpu(0).run();
                } catch (RuntimeException e) {
                    thrown[0] = e;
                }
                ended.post();
            }).get(0);
            assertThat(ended.timedWait(Duration.ofSeconds(20))).as("the spinning run ended within 20 s").isTrue();
            t.join();
            assertThat(thrown[0]).isInstanceOf(GuestTimeoutException.class)
                    .hasMessageContaining("vCPU 0 did not exit to the host within 1 s");
        }
    }
}
