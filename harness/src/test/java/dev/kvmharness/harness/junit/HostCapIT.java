// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static dev.kvmharness.harness.junit.EngineRuns.kvmHere;
import static dev.kvmharness.harness.junit.EngineRuns.run;
import static dev.kvmharness.harness.junit.EngineRuns.skipReason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.HostPages;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.kvm.KvmBackend;
import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.harness.sim.SimOptions;
import dev.kvmharness.kvm.bindings.KvmApi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/**
 * HostCap detection on both backends: the simulator offers everything it models; on /dev/kvm each answer agrees
 * with what the harness can then do (a hugetlb region is made or skipped, userfaultfd serves a fault or cannot be
 * had), and a class-level {@code @RequiresHostCap} skips each run of the class that lacks it, naming it.
 */
class HostCapIT {
    private static final long GPA = 1L << 32;
    private static final GuestProgram DONE = GuestProgram.define("done", g -> g.done());

    private static List<Backend> backendsHere() {
        List<Backend> b = new ArrayList<>();
        b.add(new SimBackend(SimOptions.defaults(1)));
        if (kvmHere()) {
            b.add(new KvmBackend());
        }
        return b;
    }

    @Test
    void theSimulatorOffersEveryCapabilityItModels() {
        Backend sim = new SimBackend(SimOptions.defaults(1));
        assertThat(HostCap.values()).allSatisfy(cap -> assertThat(cap.offeredBy(sim)).as("%s on sim", cap).isTrue());
        assertThat(HostCap.values()).allSatisfy(cap -> assertThat(cap.description()).isNotBlank());
    }

    @Test
    void pageIdleIsOfferedExactlyWhereTheBitmapOpensReadWrite() {
        Path bitmap = Path.of(HostPages.PAGE_IDLE_BITMAP);
        Backend kvm = new KvmBackend();
        assertThat(HostCap.PAGE_IDLE.offeredBy(kvm)).as("kvm").isEqualTo(Files.isWritable(bitmap));
        assertThat(kvm.pageIdleUnavailableReason().isEmpty()).isEqualTo(Files.isWritable(bitmap));
        if (!Files.exists(bitmap)) {
            assertThat(kvm.pageIdleUnavailableReason())
                    .hasValue("/sys/kernel/mm/page_idle/bitmap does not exist (the kernel has no CONFIG_IDLE_PAGE_TRACKING)");
        }
        assertThat(new SimBackend(SimOptions.defaults(1)).pageIdleUnavailableReason()).as("the simulated host has it").isEmpty();
    }

    @Test
    void kvmCapabilitiesAreWhatKvmCheckExtensionSays() {
        for (Backend b : backendsHere()) {
            assertThat(HostCap.MANUAL_DIRTY_LOG_PROTECT2.offeredBy(b)).as(b.name())
                    .isEqualTo(b.checkCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) != 0);
            assertThat(HostCap.GUEST_MEMFD.offeredBy(b)).as(b.name()).isEqualTo(b.checkCap(KvmApi.KVM_CAP_GUEST_MEMFD) != 0);
            assertThat(HostCap.SW_PROTECTED_VM.offeredBy(b)).as(b.name())
                    .isEqualTo((b.checkCap(KvmApi.KVM_CAP_VM_TYPES) & 1 << KvmApi.KVM_X86_SW_PROTECTED_VM) != 0);
            assertThat(HostCap.GB_PAGES.offeredBy(b)).as(b.name()).isEqualTo(b.caps().gbPages());
        }
    }

    /** A hugetlb region of {@code src} on {@code b}: made where the capability is offered, a skip where not. */
    private static void hugetlbRegionAgrees(Backend b, HostCap cap, BackingSource src) {
        try (Vm vm = b.createVm(VmShape.of(DONE, 1))) {
            if (cap.offeredBy(b)) {
                vm.addRegion(src, GPA, 1, src.pageSize() / 4096, 0);
                vm.write64(GPA, 0x1234);
                assertThat(vm.read64(GPA)).isEqualTo(0x1234);
            } else {
                assertThatThrownBy(() -> vm.addRegion(src, GPA, 1, src.pageSize() / 4096, 0)).as("%s on %s", cap, b.name())
                        .isInstanceOf(TestSkipped.class);
            }
        }
    }

    @Test
    void aHugetlbCapabilityIsOfferedExactlyWhereARegionCanBeMade() {
        for (Backend b : backendsHere()) {
            hugetlbRegionAgrees(b, HostCap.HUGETLB_2MB, BackingSource.ANONYMOUS_HUGETLB_2MB);
            hugetlbRegionAgrees(b, HostCap.HUGETLB, BackingSource.ANONYMOUS_HUGETLB);
        }
    }

    @Test
    void userfaultfdIsOfferedExactlyWhereDemandPagingServesAFault() {
        for (Backend b : backendsHere()) {
            try (Vm vm = b.createVm(VmShape.of(DONE, 1))) {
                vm.addRegion(BackingSource.ANONYMOUS, GPA, 1, 1, 0);
                long hva = vm.gpa2hva(GPA);
                if (HostCap.USERFAULTFD.offeredBy(b)) {
                    try (DemandPaging dp = vm.demandPaging(new DemandPaging.Config(DemandPaging.Mode.MISSING, 0, hva, 4096, 1,
                            4096, (byte) 0x5a, (mode, r, addr) -> r.copy(addr & -4096, 4096)))) {
                        assertThat(dp.pagesHandled()).isZero();
                    }
                } else {
                    assertThatThrownBy(() -> vm.demandPaging(new DemandPaging.Config(DemandPaging.Mode.MISSING, 0, hva, 4096,
                            1, 4096, (byte) 0x5a, (mode, r, addr) -> r.copy(addr, 4096)))).as(b.name())
                            .isInstanceOf(RuntimeException.class);
                }
            }
        }
    }

    /** Run through EngineTestKit by the tests below, not by Failsafe itself. */
    @RequiresHostCap(HostCap.GB_PAGES)
    static class NeedsGbPages {
        @OnBackends
        @RequiresHostCap(HostCap.USERFAULTFD)
        void needsBoth(Backend backend) {
            assertThat(HostCap.GB_PAGES.offeredBy(backend)).isTrue();
            assertThat(HostCap.USERFAULTFD.offeredBy(backend)).isTrue();
        }
    }

    @Test
    void aClassLevelRequirementSkipsEveryRunThatLacksItNamingIt() {
        EngineExecutionResults r = run(NeedsGbPages.class);
        assertThat(r.testEvents().failed().list()).isEmpty();
        assertThat(r.testEvents().succeeded().list()).extracting(e -> e.getTestDescriptor().getDisplayName()).contains("[sim]");
        if (kvmHere()) {
            Backend kvm = new KvmBackend();
            boolean runs = HostCap.GB_PAGES.offeredBy(kvm) && HostCap.USERFAULTFD.offeredBy(kvm);
            assertThat(r.testEvents().skipped().list()).extracting(EngineRuns::skipReason)
                    .satisfies(reasons -> {
                        if (runs) {
                            assertThat(reasons).isEmpty();
                        } else {
                            assertThat(reasons).singleElement().asString().startsWith("kvm host lacks ");
                        }
                    });
            if (!HostCap.GB_PAGES.offeredBy(kvm)) {
                assertThat(skipReason(r.testEvents().skipped().list().get(0)))
                        .isEqualTo("kvm host lacks GB_PAGES (1 GiB guest pages: CPUID 0x80000001 EDX bit 26)");
            }
        }
    }
}
