// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuArgs;
import dev.kvmharness.harness.memstress.VcpuThreads;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.CostModel;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The timed memstress guest on the simulator: its TSC is the virtual clock, so a first touch measures exactly
 * what the fault path charged; and with timing off the VM is the untimed one.
 */
class TimedMemstressTest {
    private static final long PAGES = 64;

    private static long[] firstTouchTicks(CostModel costs, boolean timed, long[] totalNs) {
        SimBackend sim = new SimBackend(new SimOptions(1, SimConfig.defaults(), costs));
        Memstress.Options opts = new Memstress.Options(100, false, 1, Duration.ofSeconds(10)).withTimeAccesses(timed);
        try (Memstress ms = Memstress.createVm(sim, GuestMode.PXXV48_4K, 1, PAGES * 4096, 1, BackingSource.ANONYMOUS,
                true, opts)) {
            long start = ms.vm().host().nanoTime();
            VcpuThreads t = VcpuThreads.start(ms.vm().host(), ms.vcpuArgs(), null, (VcpuArgs a) -> a.vcpu().runToUcall());
            t.join();
            totalNs[0] = ms.vm().host().nanoTime() - start;
            if (!timed) {
                assertThat(ms.timesAccesses()).isFalse();
                assertThatThrownBy(() -> ms.vm().region(Memstress.latencySlot(1))).isInstanceOf(IllegalArgumentException.class);
                return null;
            }
            assertThat(ms.vm().tscKhz()).isEqualTo(SimVm.TSC_KHZ);
            return ms.accessTicks(0);
        }
    }

    @Test
    void everyFirstTouchIsTimedAndGrowsByExactlyTheAddedFaultCost() {
        long[] t = new long[1];
        long[] base = firstTouchTicks(CostModel.defaults(), true, t);
        long[] slower = firstTouchTicks(CostModel.defaults().with(Cost.FAULT_BASE, Cost.FAULT_BASE.defaultNs() + 1000), true, t);
        assertThat(base).hasSize((int) PAGES);
        assertThat(Arrays.stream(base).allMatch(v -> v > 0)).isTrue();
        // Every first touch takes one EPT fault for its page (4K anonymous memory, nothing prefetched), plus one for
        // each guest page-table page its walk touches first (the first access of the region): each costs 1000 ns more.
        for (int i = 0; i < base.length; i++) {
            assertThat(slower[i] - base[i]).as("access %d", i).isPositive().isEqualTo((slower[i] - base[i]) / 1000 * 1000);
        }
        long oneFault = Arrays.stream(base).skip(1).filter(v -> v != 0).count();
        assertThat(java.util.stream.IntStream.range(1, base.length).filter(i -> slower[i] - base[i] == 1000).count())
                .isEqualTo(oneFault).isEqualTo(PAGES - 1);
        assertThat(Arrays.stream(base).min().getAsLong()).isGreaterThan(Cost.FAULT_BASE.defaultNs());
    }

    @Test
    void timingOffLeavesTheUntimedVmAndItsVirtualTime() {
        long[] off = new long[1];
        long[] on = new long[1];
        firstTouchTicks(CostModel.defaults(), false, off);
        firstTouchTicks(CostModel.defaults(), true, on);
        // The untimed program is the one memstress always ran; the timed one only adds its own instructions and
        // the latency buffer's faults, so it takes longer, never shorter.
        assertThat(on[0]).isGreaterThan(off[0]);
        long[] again = new long[1];
        firstTouchTicks(CostModel.defaults(), false, again);
        assertThat(again[0]).isEqualTo(off[0]);
    }
}
