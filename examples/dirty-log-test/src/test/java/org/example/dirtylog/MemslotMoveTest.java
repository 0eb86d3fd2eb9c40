// SPDX-License-Identifier: GPL-2.0-only
package org.example.dirtylog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.Label;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.harness.junit.WithVm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A memslot moved under a running vCPU (set_memory_region_test's MOVE case, in short): the guest spins reading
 * one address while the VMM moves the slot behind it one page down, writes 2 where the address used to land,
 * then 1, and moves the slot back. The guest must only ever see the slot's current contents: 1, never the 2 a
 * stale translation of the old placement would show. While the slot is being moved KVM may exit to userspace with
 * MMIO for the address; the VMM answers 0, so the guest keeps spinning.
 */
class MemslotMoveTest {
    private static final int SLOT = 10;
    private static final long GPA = 0xc000_0000L;
    private static final int PAGES = 16;
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Syncs once running, spins while the qword at {@code arg0} is 0, syncs with what it read, done. */
    static void spinUntilNonZero(GuestBuilder g) {
        Reg addr = g.arg(0);
        Reg val = g.temp();
        g.sync(0);
        Label again = g.label();
        g.bind(again);
        g.load64(val, addr, 0);
        g.branch(Cond.EQ, val, 0, again);
        g.sync(val);
        g.done();
    }

    /**
     * The vCPU thread of the VMM: runs the vCPU, answers MMIO reads of {@code GPA} with 0, posts {@code synced}
     * on every GUEST_SYNC, and returns at GUEST_DONE.
     */
    private static void runVcpu(Vcpu vcpu, Host.Semaphore synced, List<Long> stages) {
        while (true) {
            Exit exit = vcpu.run();
            if (exit.is(Exit.MMIO)) {
                Exit.Mmio mmio = vcpu.mmio();
                assertTrue(!mmio.isWrite() && mmio.physAddr() == GPA && mmio.len() == 8, "unexpected MMIO " + mmio);
                vcpu.setMmioData(0);
                continue;
            }
            Ucall uc = vcpu.ucall();
            assertEquals(Exit.IO, exit.reason(), "a ucall or MMIO, not " + exit);
            if (uc.kind() == Ucall.Kind.DONE) {
                return;
            }
            assertEquals(Ucall.Kind.SYNC, uc.kind(), uc::toString);
            synchronized (stages) {
                stages.add(uc.stage());
            }
            synced.post();
        }
    }

    @OnBackends
    @WithVm(guest = "spinUntilNonZero", runTimeoutSeconds = 60)
    void theGuestSeesOnlyTheMovedSlotsContents(Vm vm) {
        vm.addRegion(BackingSource.ANONYMOUS, GPA, SLOT, PAGES, 0);
        vm.virtMap(GPA, GPA, PAGES * 4096L);
        vm.vcpu(0).setArgs(GPA);
        Host host = vm.host();
        Host.Semaphore synced = host.newSemaphore("synced");
        List<Long> stages = new ArrayList<>();
        Host.HostThread vcpuThread = host.startGroup("vcpu", 1, i -> runVcpu(vm.vcpu(0), synced, stages)).get(0);
        assertTrue(synced.timedWait(WAIT), "the guest started");
        host.sleepMicros(10_000);

        // One page down: GPA now lands on the slot's second page (zero); its first page sits at GPA - 4096.
        vm.memRegionMove(SLOT, GPA - 4096);
        vm.write64(GPA - 4096, 2);
        host.sleepMicros(10_000);
        vm.write64(GPA - 4096, 1);
        // Back: GPA is the first page again, which now holds 1.
        vm.memRegionMove(SLOT, GPA);

        assertTrue(synced.timedWait(WAIT), "the guest saw a non-zero value");
        vcpuThread.join();
        synchronized (stages) {
            assertEquals(List.of(0L, 1L), stages, "the guest saw 1, never the 2 at the slot's old placement");
        }
    }
}
