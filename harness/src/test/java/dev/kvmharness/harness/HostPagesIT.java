// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.harness.junit.WithVm;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * addr_gva2hva() and the host's pagemap and idle page tracking ({@link HostPages}), written once and run on both
 * backends: on /dev/kvm the real /proc/self/pagemap and /sys/kernel/mm/page_idle/bitmap (a host without
 * CONFIG_IDLE_PAGE_TRACKING skips the idle test with the reason), on the simulator the simulated host mm's, where
 * marking a page idle ages KVM's SPTEs through the clear_young notifier.
 */
class HostPagesIT {
    private static final long GPA = 1L << 32;
    private static final long GVA = 0xc0000000L;
    private static final long PAGE = 4096;
    /** 64 MiB: far more pages than the simulated (2048-entry) or a real TLB holds, as the C test requires. */
    private static final long PAGES = 16384;

    /**
     * The guest: writes every page of [arg0, arg0 + arg1 pages), GUEST_SYNC(1); then writes the first half of them
     * again, GUEST_SYNC(2); GUEST_DONE.
     */
    static void touchAllThenHalf(GuestBuilder g) {
        Reg base = g.arg(0);
        Reg pages = g.arg(1);
        Reg i = g.temp();
        Reg addr = g.temp();
        for (int pass = 1; pass <= 2; pass++) {
            if (pass == 2) {
                g.shr(pages, 1);
            }
            g.mov(i, 0);
            g.whileTrue(Cond.ULT, i, pages, () -> {
                g.mov(addr, i);
                g.mul(addr, PAGE);
                g.add(addr, base);
                g.store64(addr, 0, i);
                g.add(i, 1);
            });
            g.sync(pass);
        }
        g.done();
    }

    private static void addTestRegion(Vm vm) {
        vm.addRegion(BackingSource.ANONYMOUS, GPA, 1, PAGES, 0);
        vm.virtMap(GVA, GPA, PAGES * PAGE);
    }

    @OnBackends
    @WithVm(guest = "touchAllThenHalf", extraMemPages = PAGES, runTimeoutSeconds = 60)
    void gva2hvaFollowsTheGuestPageTablesToTheRegionsHostMapping(Vm vm) {
        addTestRegion(vm);
        assertThat(vm.gva2gpa(GVA + 5 * PAGE + 24)).isEqualTo(GPA + 5 * PAGE + 24);
        assertThat(vm.gva2hva(GVA + 5 * PAGE + 24)).isEqualTo(vm.gpa2hva(GPA) + 5 * PAGE + 24);
        assertThat(vm.gva2hva(GVA + (PAGES - 1) * PAGE)).isEqualTo(vm.region(1).hva() + (PAGES - 1) * PAGE);
        assertThatThrownBy(() -> vm.gva2hva(GVA + PAGES * PAGE)).isInstanceOf(TestAssertionFailure.class)
                .hasMessage(String.format("Leaf PTE not PRESENT for gva: 0x%08x", GVA + PAGES * PAGE));
    }

    @OnBackends
    @WithVm(guest = "touchAllThenHalf", extraMemPages = PAGES, runTimeoutSeconds = 60)
    void pagemapShowsTheGuestsPagesOnceTouched(Vm vm, Vcpu vcpu) {
        addTestRegion(vm);
        HostPages host = vm.hostPages();
        long hva = vm.gva2hva(GVA);
        assertThat(host.pagemapEntry(hva) & HostPages.PAGEMAP_PRESENT).as("not yet touched").isZero();
        vcpu.setArgs(GVA, PAGES);
        assertThat(vcpu.runToUcall().stage()).isEqualTo(1);
        long e = host.pagemapEntry(hva);
        assertThat(e & HostPages.PAGEMAP_PRESENT).as("touched by the guest").isNotZero();
        assertThat(e & HostPages.PAGEMAP_FILE).as("anonymous memory").isZero();
        if (Files.isReadable(Path.of(HostPages.PAGEMAP)) && isRoot()) {
            assertThat(host.pfn(hva)).as("a privileged reader sees the PFN").isPositive();
            assertThat(host.pfn(vm.gva2hva(GVA + PAGE))).isNotEqualTo(host.pfn(hva));
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /**
     * Where the host has idle page tracking: the guest's later writes clear the idle bit, untouched pages keep it.
     * Where it has none (no CONFIG_IDLE_PAGE_TRACKING, or not root): the backend says so before any work, and the
     * first access of the bitmap is the C test's skip, naming the file, rather than a failure.
     */
    @OnBackends
    @WithVm(guest = "touchAllThenHalf", extraMemPages = PAGES, runTimeoutSeconds = 60)
    void pagesTheGuestTouchesAfterMarkingAreNotIdleAndTheOthersStayIdle(Vm vm, Vcpu vcpu) {
        addTestRegion(vm);
        HostPages host = vm.hostPages();
        java.util.Optional<String> missing = vm.backend().pageIdleUnavailableReason();
        if (missing.isPresent()) {
            assertThat(Files.isWritable(Path.of(HostPages.PAGE_IDLE_BITMAP)) && Files.isReadable(Path.of(HostPages.PAGE_IDLE_BITMAP)))
                    .as("the backend reports idle page tracking missing (%s), so the bitmap must not be usable", missing.get())
                    .isFalse();
            assertThatThrownBy(() -> host.isIdle(1)).isInstanceOf(TestSkipped.class)
                    .hasMessageContaining(HostPages.PAGE_IDLE_BITMAP);
            return;
        }
        vcpu.setArgs(GVA, PAGES);
        assertThat(vcpu.runToUcall().stage()).isEqualTo(1);
        long[] pfns = new long[(int) PAGES];
        for (int i = 0; i < PAGES; i++) {
            pfns[i] = host.pfn(vm.gva2hva(GVA + i * PAGE));
            assertThat(pfns[i]).as("pfn of page %d", i).isPositive();
            host.markIdle(pfns[i]);
        }
        for (int i = 0; i < PAGES; i += 97) {
            assertThat(host.isIdle(pfns[i])).as("page %d right after marking", i).isTrue();
        }
        assertThat(vcpu.runToUcall().stage()).as("the guest wrote the first half again").isEqualTo(2);
        long touchedStillIdle = 0;
        long untouchedIdle = 0;
        for (int i = 0; i < PAGES; i++) {
            boolean idle = host.isIdle(pfns[i]);
            if (i < PAGES / 2) {
                touchedStillIdle += idle ? 1 : 0;
            } else {
                untouchedIdle += idle ? 1 : 0;
            }
        }
        assertThat(untouchedIdle).as("pages nobody touched after marking").isEqualTo(PAGES / 2);
        assertThat(touchedStillIdle).as("pages the guest wrote after marking that still read idle (TLB hits only)")
                .isLessThan(PAGES / 2 / 10);
    }
}
