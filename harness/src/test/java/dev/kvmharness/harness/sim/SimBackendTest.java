// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Label;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuThreads;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What only the sim backend behind the harness API shows: virtual time, same seed same run, stats of a fault,
 * and no threads left behind. What both backends share is {@link dev.kvmharness.harness.GuestProgramsIT}.
 */
class SimBackendTest {
    private static final long DATA_GVA = 0x10_0000_0000L;
    private static final long DATA_GPA = 0x1_0000_0000L;

    private static SimBackend sim(long seed) {
        return new SimBackend(SimOptions.defaults(seed));
    }

    private static Vm vm(GuestProgram p, int vcpus) {
        Vm vm = sim(1).createVm(VmShape.of(p, vcpus).withRunTimeout(Duration.ofSeconds(2)));
        vm.addRegion(BackingSource.ANONYMOUS, DATA_GPA, 1, 16, 0);
        vm.virtMap(DATA_GVA, DATA_GPA, 16 * 4096);
        return vm;
    }

    @Test
    void aSpinningGuestDoesNotMakeTimedWaitsTakeRealTime() {
        GuestProgram p = GuestProgram.define("spin", g -> {
            Reg addr = g.arg(0);
            Reg v = g.temp();
            g.sync(0);
            Label again = g.label();
            g.bind(again);
            g.load64(v, addr, 0);
            g.branch(Cond.EQ, v, 0, again);
            g.sync(v);
            g.done();
        });
        try (Vm vm = sim(3).createVm(VmShape.of(p, 1).withRunTimeout(Duration.ofSeconds(30)))) {
            vm.addRegion(BackingSource.ANONYMOUS, DATA_GPA, 1, 16, 0);
            vm.virtMap(DATA_GVA, DATA_GPA, 16 * 4096);
            vm.vcpu(0).setArgs(DATA_GVA);
            Host host = vm.host();
            Host.Semaphore synced = host.newSemaphore("synced");
            long[] seen = new long[1];
            Host.HostThread t = host.startGroup("vcpu", 1, i -> {
                assertThat(vm.vcpu(0).runToUcall().stage()).isZero();
                synced.post();
                seen[0] = vm.vcpu(0).runToUcall().stage();
                synced.post();
                assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
            }).get(0);
            assertThat(synced.timedWait(Duration.ofSeconds(2))).isTrue();
            long realStart = System.nanoTime();
            long virtualStart = host.nanoTime();
            assertThat(synced.timedWait(Duration.ofSeconds(2))).as("nobody posts while the guest spins").isFalse();
            host.sleepMicros(100_000);
            long virtualNs = host.nanoTime() - virtualStart;
            long realNs = System.nanoTime() - realStart;
            assertThat(virtualNs).isGreaterThanOrEqualTo(2_100_000_000L);
            assertThat(realNs).as("real ns for %d virtual ns of spinning", virtualNs).isLessThan(1_000_000_000L);
            vm.write64(DATA_GPA, 7);
            assertThat(synced.timedWait(Duration.ofSeconds(2))).isTrue();
            t.join();
            assertThat(seen[0]).isEqualTo(7);
        }
    }

    /** A guest's first touch of a page is a fixed fault that maps it (pf_fixed, pages_4k or pages_2m). */
    @Test
    void aGuestTouchIsAFixedFaultThatMapsThePage() {
        GuestProgram p = GuestProgram.define("rw", g -> {
            Reg addr = g.arg(0);
            Reg v = g.temp();
            g.load64(v, addr, 8);
            g.add(v, 1);
            g.store64(addr, 0, v);
            g.sync(v);
            g.done();
        });
        try (Vm vm = vm(p, 1)) {
            vm.vcpu(0).setArgs(DATA_GVA);
            Stats before = new Stats(Map.of(), List.of(), Set.of());
            assertThat(vm.vcpu(0).runToUcall().stage()).isEqualTo(1);
            Stats.Delta d = vm.stats().delta(before);
            assertThat(d.value("pf_fixed")).isPositive();
            assertThat(d.value("pages_4k") + d.value("pages_2m")).isPositive();
        }
    }

    @Test
    void sameSeedSameRun() {
        long[][] durations = new long[2][];
        String[] stats = new String[2];
        for (int run = 0; run < 2; run++) {
            try (Memstress ms = Memstress.createVm(sim(7), GuestMode.PXXV48_4K, 4, 2L << 20, 1, BackingSource.ANONYMOUS, true,
                    Memstress.Options.defaults(7))) {
                Host host = ms.vm().host();
                Stats before = ms.vm().stats();
                VcpuThreads t = VcpuThreads.start(host, ms.vcpuArgs(), null, a -> a.vcpu().runToUcall());
                t.join();
                durations[run] = t.durationsNs();
                Stats.Delta d = ms.vm().stats().delta(before);
                stats[run] = d.vm().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()[0]).toList()
                        + " " + d.vcpuTotal().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()[0]).toList();
                assertThat(d.value("pf_fixed")).isGreaterThanOrEqualTo(4 * 512);
            }
        }
        assertThat(durations[1]).isEqualTo(durations[0]);
        assertThat(stats[1]).isEqualTo(stats[0]);
        assertThat(durations[0][0]).isPositive();
    }

    @Test
    void manyVmsLeaveNoThreadsBehind() {
        GuestProgram done = GuestProgram.define("done", g -> g.done());
        int threadsBefore = Thread.activeCount();
        for (int i = 0; i < 200; i++) {
            try (Vm vm = sim(i).createVm(VmShape.of(done, 2))) {
                List<Host.HostThread> ts = vm.host().startGroup("vcpu-", 2, v -> vm.vcpu(v).runToUcall());
                ts.forEach(Host.HostThread::join);
            }
        }
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 2);
    }
}
