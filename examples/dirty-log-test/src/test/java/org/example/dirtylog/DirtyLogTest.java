// SPDX-License-Identifier: GPL-2.0-only
package org.example.dirtylog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.harness.junit.WithVm;

/**
 * Dirty logging end to end: the guest writes a chosen set of pages of a dirty-logged memslot, and
 * KVM_GET_DIRTY_LOG must report exactly those; a second call, with nothing written in between, reports none,
 * and a write after it is reported again. Runs on the simulator and on /dev/kvm.
 */
class DirtyLogTest {
    private static final int SLOT = 1;
    private static final long GPA = 0x1_0000_0000L;
    private static final long GVA = 0x10_0000_0000L;
    private static final int PAGES = 256;
    private static final int KVM_MEM_LOG_DIRTY_PAGES = 1;

    /**
     * The guest program, named by {@code @WithVm(guest = ...)}: writes every {@code arg2}-th page of the
     * {@code arg1} pages at {@code arg0}, then syncs; forever.
     */
    static void writeEveryNthPage(GuestBuilder g) {
        Reg base = g.arg(0);
        Reg pages = g.arg(1);
        Reg step = g.arg(2);
        Reg i = g.temp();
        Reg addr = g.temp();
        Reg off = g.temp();
        g.loop(() -> {
            g.mov(i, 0);
            g.whileTrue(Cond.ULT, i, pages, () -> {
                g.mov(off, i);
                g.shl(off, 12);
                g.mov(addr, base);
                g.add(addr, off);
                g.store64(addr, 0, i);
                g.add(i, step);
            });
            g.sync(step);
        });
    }

    private static long[] expected(int step) {
        long[] bm = new long[PAGES / 64];
        for (int p = 0; p < PAGES; p += step) {
            bm[p / 64] |= 1L << (p % 64);
        }
        return bm;
    }

    @OnBackends
    @WithVm(guest = "writeEveryNthPage", runTimeoutSeconds = 30)
    void getDirtyLogReportsExactlyThePagesTheGuestWrote(Vm vm) {
        vm.addRegion(BackingSource.ANONYMOUS, GPA, SLOT, PAGES, KVM_MEM_LOG_DIRTY_PAGES);
        vm.virtMap(GVA, GPA, PAGES * 4096L);
        vm.vcpu(0).setArgs(GVA, PAGES, 3);

        Ucall uc = vm.vcpu(0).runToUcall();
        assertEquals(Ucall.Kind.SYNC, uc.kind());
        assertArrayEquals(expected(3), vm.getDirtyLog(SLOT), "pages 0, 3, 6, ... written once each");
        assertArrayEquals(new long[PAGES / 64], vm.getDirtyLog(SLOT), "nothing written since the last KVM_GET_DIRTY_LOG");

        vm.vcpu(0).runToUcall();
        assertArrayEquals(expected(3), vm.getDirtyLog(SLOT), "the same pages written again, through re-protected SPTEs");
        assertEquals(42 * 3, vm.read64(GPA + 42L * 3 * 4096), "the guest's data reached the host");
    }
}
