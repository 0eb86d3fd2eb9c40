// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.harness.junit.WithVm;
import java.time.Duration;

/**
 * What memslot_perf_test needs beyond kvm_util's basics, on both backends: {@link Vm#madviseDontneed} (the host
 * drops guest pages, the guest then reads fresh zeroes) and {@link Host#spinUntilGuest} (the host waits for a
 * store the guest makes to shared memory, and gives up after its timeout).
 */
@WithVm(guest = "clearFlag", runTimeoutSeconds = 30)
class GuestHandshakeApiIT {
    private static final int SLOT = 1;
    private static final long GPA = 0x1_0000_0000L;
    private static final int PAGES = 16;

    /** Waits for *(arg0) != 0, reads *(arg0 + 4096) into the sync, clears *(arg0); then GUEST_DONE. */
    static void clearFlag(GuestBuilder g) {
        Reg flag = g.arg(0);
        Reg v = g.temp();
        Reg zero = g.temp();
        g.sync(0);
        g.loop(() -> {
            g.load64(v, flag, 0);
            g.ifTrue(Cond.NE, v, 0, () -> {
                g.load64(v, flag, 4096);
                g.store64(flag, 0, zero);
                g.sync(v);
                g.done();
            });
        });
    }

    @OnBackends
    void theHostSeesTheGuestClearTheFlagAndDroppedPagesReadZero(Vm vm) {
        vm.addRegion(BackingSource.ANONYMOUS, GPA, SLOT, PAGES, 0);
        vm.virtMap(GPA, GPA, PAGES * 4096L);
        vm.write64(GPA + 4096, 0x5a5a);
        vm.madviseDontneed(GPA + 4096, 4096);
        assertThat(vm.read64(GPA + 4096)).as("a dropped anonymous page reads zero").isZero();
        vm.write64(GPA + 8192, 7);

        Vcpu vcpu = vm.vcpu(0);
        vcpu.setArgs(GPA);
        assertThat(vcpu.runToUcall().stage()).isZero();
        Ucall[] last = {null};
        Host.HostThread t = vm.host().startGroup("vcpu", 1, i -> last[0] = vcpu.runToUcall()).get(0);
        assertThat(vm.host().spinUntilGuest(() -> false, Duration.ofMillis(5))).as("times out").isFalse();
        vm.write64(GPA, 1);
        long before = vm.host().nanoTime();
        assertThat(vm.host().spinUntilGuest(() -> vm.read64(GPA) == 0, Duration.ofSeconds(10))).isTrue();
        // on the simulator both sides wait for each other's store instead of polling; a missed wake-up would
        // still pass at a timeout, seconds later
        assertThat(vm.host().nanoTime() - before).as("ns from the host's store to seeing the guest's").isLessThan(1_000_000_000L);
        t.join();
        assertThat(last[0].kind()).isEqualTo(Ucall.Kind.SYNC);
        assertThat(last[0].stage()).as("the guest read the dropped page after the host's madvise").isZero();
        assertThat(vm.read64(GPA + 8192)).isEqualTo(7);
    }
}
