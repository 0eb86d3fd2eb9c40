// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.MemslotLimits;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.memslot.MemslotUpdate;
import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The heap cost per guest 4K page, part by part: maps N GiB (default 128) of anonymous guest memory, faults
 * every host page in (host page tables and page flags), maps every page with a 4K SPTE (the TDP MMU: SPTEs and
 * their tables), then stores one word per page as memstress's guest does (page contents). Each part is the
 * growth of the heap after full GCs, so the MMU figure leaves out the host's metadata and the whole-VM figure
 * is their sum. Run with {@code ci/bench.sh footprint [GiB]}.
 */
public final class MmuFootprint {
    private MmuFootprint() {
    }

    public static void main(String[] args) {
        long gib = args.length > 0 ? Long.parseLong(args[0]) : 128;
        long pages = gib << 18;
        long gpa = 1L << 40;
        long empty = usedHeapAfterGc();
        SimScheduler sched = new SimScheduler(1, CostModel.defaults());
        sched.attachCurrent("footprint", 0);
        HostMm mm = new HostMm(sched, new PhysMem());
        SimKvm kvm = new SimKvm(sched, mm, SimConfig.defaults().withOracle(false));
        long hva = mm.mmap(pages << 12, Backing.ANON);
        new MemslotUpdate(kvm, MemslotLimits.x86Default(48)).set(MemslotRequest.v1(1, 0, gpa, pages << 12, hva));
        SimVcpu vcpu = kvm.createVcpu();
        vcpu.setCr3(-1);
        for (long i = 0; i < pages; i++) {
            mm.faultIn(hva + (i << 12), true);
        }
        long before = usedHeapAfterGc();
        long host = before - empty;
        vcpu.beginRun();
        long t0 = System.nanoTime();
        for (long i = 0; i < pages; i++) {
            vcpu.translate(gpa + (i << 12), 8, true);
        }
        long t1 = System.nanoTime();
        long after = usedHeapAfterGc();
        for (long i = 0; i < pages; i++) {
            // memstress's guest store: one word at the start of each page, the same value everywhere
            long at = vcpu.translate(gpa + (i << 12), 8, true);
            kvm.phys().write(at >>> 12, (int) (at & 0xfff), 8, 0x0123_4567_89ab_cdefL);
        }
        vcpu.endRun(GuestExit.Reason.INTR);
        long contents = usedHeapAfterGc() - after;
        long mapped = kvm.stats().pages[1];
        System.out.printf(Locale.ROOT, "mapped %d GiB: %d 4K SPTEs in %d page tables%n", gib, mapped, kvm.tdpMmu().tables().live());
        System.out.printf(Locale.ROOT, "MMU heap: %d bytes, %.2f bytes per mapped 4K page%n", after - before,
                (double) (after - before) / mapped);
        System.out.printf(Locale.ROOT, "faults: %.2f M/s (host pages already present)%n", pages / ((t1 - t0) / 1e9) / 1e6);
        System.out.printf(Locale.ROOT, "host page tables and page flags: %.2f bytes per page; contents (one word per page): %.2f%n",
                (double) host / pages, (double) contents / pages);
        System.out.printf(Locale.ROOT, "whole VM: %.2f bytes per guest 4K page%n",
                (double) (host + (after - before) + contents) / pages);
        if (mapped != pages) {
            throw new IllegalStateException("expected " + pages + " 4K SPTEs, found " + mapped);
        }
        kvm.close();
        mm.close();
        sched.detachCurrent();
        sched.close();
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
