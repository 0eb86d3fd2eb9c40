// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A vCPU whose guest only polls memory waits in the model instead of spinning ({@link SimVcpu#waitWhileSpinning}):
 * what ends the wait is exactly what could end the loop. Each test parks vCPU 0 after it read a page through its
 * TLB, lets the test thread act at virtual time 50 us, and looks at when (and whether) the vCPU woke.
 */
class SpinWaitTest {
    private static final long ACT_AT = 50_000;
    private static final long DEADLINE = 1_000_000;

    /** What the vCPU saw: whether something woke it, and its clock after the wait. */
    private record Woke(boolean woken, long at) {
    }

    private static Woke parkThenAct(MmuWorld w, Runnable act) {
        SimVcpu v = w.vcpus.get(0);
        AtomicBoolean woken = new AtomicBoolean();
        AtomicLong at = new AtomicLong();
        SimThread t = w.sched.spawn("vcpu0", () -> {
            v.beginRun();
            v.translate(MmuWorld.SLOT2_GPA, 8, false);
            woken.set(v.waitWhileSpinning(DEADLINE));
            at.set(w.sched.now());
            v.endRun(GuestExit.Reason.INTR);
        });
        w.sched.advance(ACT_AT - w.sched.now());
        w.sched.yieldPoint();
        act.run();
        w.sched.join(t);
        return new Woke(woken.get(), at.get());
    }

    private static long pfnOfSlot2(MmuWorld w) {
        return w.vcpus.get(0).tlb().pfn(w.vcpus.get(0).tlb().validSlot(0));
    }

    @Test
    void aWriteToAPageTheGuestReadsWakesItAtTheWritersTime() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            Woke r = parkThenAct(w, () -> w.phys.write(pfnOfSlot2(w), 0, 8, 1));
            assertThat(r.woken()).as("a host store to the page the guest polls ends the wait").isTrue();
            assertThat(r.at()).as("the vCPU resumes when the write happened, not at its deadline").isBetween(ACT_AT, ACT_AT + 1000);
        }
    }

    @Test
    void aWriteElsewhereDoesNotWakeIt() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            Woke r = parkThenAct(w, () -> w.phys.write(w.phys.alloc(0), 0, 8, 1));
            assertThat(r.woken()).as("a store to a page the guest does not read must not end the wait").isFalse();
            assertThat(r.at()).isGreaterThanOrEqualTo(DEADLINE);
        }
    }

    @Test
    void aRemoteTlbFlushWakesIt() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            Woke r = parkThenAct(w, () -> w.kvm.flushRemoteTlbs(FlushSite.MEMSLOT_ZAP));
            assertThat(r.woken()).as("a flush request kicks the vCPU out of its loop").isTrue();
            assertThat(r.at()).isLessThan(DEADLINE);
        }
    }

    @Test
    void freeingThePageWakesIt() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            Woke r = parkThenAct(w, () -> w.mm.madviseDontneed(w.hva2, 4096));
            assertThat(r.woken()).as("MADV_DONTNEED of the polled page (a zap, a flush, the page freed) ends the wait")
                    .isTrue();
            assertThat(r.at()).isLessThan(DEADLINE);
        }
    }
}
