// SPDX-License-Identifier: GPL-2.0-only
package org.example.dirtylog;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.MemRegion;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.HostCap;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.harness.junit.RequiresHostCap;
import dev.kvmharness.harness.junit.WithVm;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A memslot whose memory a userfaultfd serves, as a VMM doing post-copy live migration would: the guest reads
 * then writes every page; each first touch faults to the VMM's handler, which supplies the page (UFFDIO_COPY of a
 * 0x5a-filled page). Every page must be served exactly once, the guest must read what the handler supplied, and
 * its writes must land in the served pages.
 */
class UserfaultfdRegionTest {
    private static final int SLOT = 1;
    private static final long GPA = 0x1_0000_0000L;
    private static final long GVA = 0x10_0000_0000L;
    private static final int PAGES = 64;
    private static final byte FILL = 0x5a;
    private static final long FILLED = 0x5a5a_5a5a_5a5a_5a5aL;

    /** For each of the {@code arg1} pages at {@code arg0}: assert it holds the fill, write its index; sync. */
    static void readThenWriteEveryPage(GuestBuilder g) {
        Reg base = g.arg(0);
        Reg pages = g.arg(1);
        Reg i = g.temp();
        Reg addr = g.temp();
        Reg val = g.temp();
        Reg filled = g.temp();
        g.mov(filled, FILLED);
        g.mov(i, 0);
        g.whileTrue(Cond.ULT, i, pages, () -> {
            g.mov(addr, i);
            g.shl(addr, 12);
            g.add(addr, base);
            g.load64(val, addr, 0);
            g.guestAssert(Cond.EQ, val, filled, "page %lu holds 0x%lx, not the handler's fill", i, val);
            g.store64(addr, 0, i);
            g.add(i, 1);
        });
        g.sync(pages);
        g.done();
    }

    @OnBackends
    @RequiresHostCap(HostCap.USERFAULTFD)
    @WithVm(guest = "readThenWriteEveryPage", runTimeoutSeconds = 60)
    void everyPageIsServedOnceWithTheHandlersContents(Vm vm) {
        MemRegion region = vm.addRegion(BackingSource.ANONYMOUS, GPA, SLOT, PAGES, 0);
        vm.virtMap(GVA, GPA, PAGES * 4096L);
        vm.vcpu(0).setArgs(GVA, PAGES);
        Set<Long> served = ConcurrentHashMap.newKeySet();
        DemandPaging uffd = vm.demandPaging(new DemandPaging.Config(DemandPaging.Mode.MISSING, 0, region.hva(),
                PAGES * 4096L, 1, 4096, FILL, (mode, resolver, addr) -> {
                    served.add(addr & -4096);
                    resolver.copy(addr & -4096, 4096);
                }));
        try {
            Ucall uc = vm.vcpu(0).runToUcall();
            assertEquals(Ucall.Kind.SYNC, uc.kind());
            assertEquals(PAGES, uc.stage(), "the guest went through every page");
        } finally {
            // joins the handler threads: the count is complete after this
            uffd.close();
        }
        assertEquals(PAGES, uffd.pagesHandled(), "one fault per page");
        assertEquals(PAGES, served.size(), "every page served, none twice");
        for (int p = 0; p < PAGES; p++) {
            assertEquals(p, vm.read64(GPA + p * 4096L), "the guest's write to page " + p);
            assertEquals(FILLED, vm.read64(GPA + p * 4096L + 8), "the handler's fill in page " + p);
        }
    }
}
