// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.junit.jupiter.api.Test;

/**
 * Guest exceptions delivered through the guest IDT, and the exits KVM makes of them: a triple fault is
 * KVM_EXIT_SHUTDOWN, a gate read from MMIO is KVM_INTERNAL_ERROR_DELIVERY_EV with the gate's GPA in data[3],
 * a vCPU fetching its first instruction from no memslot is KVM_INTERNAL_ERROR_EMULATION.
 */
class ExceptionDeliveryTest {
    static final long NONCANONICAL = 0xaaaaaaaaaaaaaaaaL;
    static final long NO_MEMSLOT = 3L << 30;

    private static GuestExit access(MmuWorld w, long gva, boolean write) {
        SimVcpu v = w.vcpus.get(0);
        v.beginRun();
        GuestExit e = org.junit.jupiter.api.Assertions.assertThrows(GuestExit.class, () -> v.translate(gva, 1, write));
        v.endRun(e.reason());
        return e;
    }

    @Test
    void aNonCanonicalStoreWithAnEmptyIdtIsATripleFault() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            w.vcpus.get(0).setIdt(0, 0);
            GuestExit e = access(w, NONCANONICAL, true);
            assertThat(e.reason()).isEqualTo(GuestExit.Reason.SHUTDOWN);
            assertThat(e.getMessage()).contains("#GP (non-canonical address 0xaaaaaaaaaaaaaaaa)", "-> #DF", "triple fault");
        }
    }

    @Test
    void anIdtInMmioMakesDeliveryFailWithTheGatesGpa() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            w.vcpus.get(0).setIdt(NO_MEMSLOT, 0xfff);
            GuestExit e = access(w, NONCANONICAL, true);
            assertThat(e.reason()).isEqualTo(GuestExit.Reason.INTERNAL_ERROR);
            assertThat(e.suberror()).isEqualTo(GuestExit.KVM_INTERNAL_ERROR_DELIVERY_EV);
            // kvm_prepare_event_vectoring_exit(): vectoring info, exit reason, qualification, GPA, CPU.
            assertThat(e.data()).hasSize(5);
            assertThat(e.data()[3]).isEqualTo(NO_MEMSLOT + 13 * 16);
            assertThat(e.data()[0]).as("valid | error code | hardware exception | #GP").isEqualTo(0x80000b0dL);
        }
    }

    @Test
    void notPresentGatesEscalateThroughNpAndDfToATripleFault() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            // Slot 2 is zeroed guest memory: every gate there is not present.
            w.vcpus.get(0).setIdt(MmuWorld.SLOT2_GPA, 0xfff);
            GuestExit e = access(w, NONCANONICAL, false);
            assertThat(e.reason()).isEqualTo(GuestExit.Reason.SHUTDOWN);
            assertThat(e.getMessage()).contains("#GP gate not present: #NP", "-> #DF", "#DF gate not present", "triple fault");
        }
    }

    @Test
    void aPresentGateWouldRunAGuestHandlerWhichIsNotModelled() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            w.mm.write(w.hva2 + 13 * 16, 8, 1L << 47);
            w.vcpus.get(0).setIdt(MmuWorld.SLOT2_GPA, 0xfff);
            SimVcpu v = w.vcpus.get(0);
            v.beginRun();
            assertThatThrownBy(() -> v.translate(NONCANONICAL, 1, true)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("gate is present");
            v.endRun(GuestExit.Reason.INTR);
        }
    }

    @Test
    void aDivideErrorGoesThroughTheIdtToo() {
        try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
            SimVcpu v = w.vcpus.get(0);
            v.setIdt(NO_MEMSLOT, 0xfff);
            GuestExit e = v.raise(SimVcpu.DE_VECTOR, "div by 0");
            assertThat(e.suberror()).isEqualTo(GuestExit.KVM_INTERNAL_ERROR_DELIVERY_EV);
            assertThat(e.data()[3]).isEqualTo(NO_MEMSLOT);
        }
    }

    @Test
    void aVcpuNobodySetUpWithNoMemslotsEndsInAnEmulationFailure() {
        SimScheduler sched = new SimScheduler(1, CostModel.defaults());
        sched.attachCurrent("test", 0);
        try (HostMm mm = new HostMm(sched, new PhysMem()); SimKvm kvm = new SimKvm(sched, mm, SimConfig.defaults())) {
            kvm.setNrMmuPages(64);
            GuestExit e = kvm.createVcpu().runFromReset();
            assertThat(e.reason()).isEqualTo(GuestExit.Reason.INTERNAL_ERROR);
            assertThat(e.suberror()).isEqualTo(GuestExit.KVM_INTERNAL_ERROR_EMULATION);
        } finally {
            sched.detachCurrent();
            sched.close();
        }
    }

    @Test
    void vmTypesQuirksAndNrMmuPagesFailWithKvmsErrno() {
        SimScheduler sched = new SimScheduler(1, CostModel.defaults());
        sched.attachCurrent("test", 0);
        try (HostMm mm = new HostMm(sched, new PhysMem())) {
            assertThatThrownBy(() -> new SimKvm(sched, mm, SimConfig.defaults(), 2))
                    .hasMessageContaining("KVM_CREATE_VM failed: EINVAL");
            try (SimKvm kvm = new SimKvm(sched, mm, SimConfig.defaults(), SimKvm.KVM_X86_SW_PROTECTED_VM)) {
                assertThat(kvm.type()).isEqualTo(SimKvm.KVM_X86_SW_PROTECTED_VM);
                assertThatThrownBy(() -> kvm.setNrMmuPages(63)).hasMessageContaining("KVM_SET_NR_MMU_PAGES failed: EINVAL");
                assertThatThrownBy(() -> kvm.disableQuirks2(1L << 8)).hasMessageContaining("KVM_ENABLE_CAP failed: EINVAL");
                assertThat(kvm.slotZapAllQuirk()).isTrue();
                kvm.disableQuirks2(SimKvm.KVM_X86_QUIRK_SLOT_ZAP_ALL);
                assertThat(kvm.slotZapAllQuirk()).isFalse();
            }
        } finally {
            sched.detachCurrent();
            sched.close();
        }
    }

    /** With the quirk a delete zaps every root; without it, only the deleted slot's gfns. */
    @Test
    void disablingTheSlotZapQuirkKeepsOtherSlotsMapped() {
        for (boolean disable : new boolean[] {false, true}) {
            try (MmuWorld w = new MmuWorld(1, SimConfig.defaults(), 1)) {
                if (disable) {
                    w.kvm.disableQuirks2(SimKvm.KVM_X86_QUIRK_SLOT_ZAP_ALL);
                }
                w.access(0, MmuWorld.SLOT1_GPA, false, false);
                var root = w.vcpus.get(0).root();
                w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, MmuWorld.SLOT2_GPA, 0, w.hva2));
                assertThat(root.isInvalid()).as("root invalidated, quirk %s", disable ? "disabled" : "enabled")
                        .isEqualTo(!disable);
            }
        }
    }

    @Test
    void aSwProtectedVmBindsOnlyItsOwnGuestMemfd() {
        SimScheduler sched = new SimScheduler(1, CostModel.defaults());
        sched.attachCurrent("test", 0);
        try (HostMm mm = new HostMm(sched, new PhysMem());
             SimKvm kvm = new SimKvm(sched, mm, SimConfig.defaults(), SimKvm.KVM_X86_SW_PROTECTED_VM)) {
            var mine = dev.kvmharness.mmu.memslot.GuestMemfd.create(kvm, 8 << 20, 0);
            var theirs = dev.kvmharness.mmu.memslot.GuestMemfd.create(new Object(), 8 << 20, 0);
            var files = new java.util.HashMap<Integer, dev.kvmharness.mmu.memslot.GuestMemfd>();
            files.put(5, mine);
            files.put(6, theirs);
            MemslotUpdate u = new MemslotUpdate(kvm, MemslotLimits.x86SwProtected(48).withGmemOverlapEexist(true),
                    fd -> files.containsKey(fd) && files.get(fd).ownedBy(kvm)
                            ? java.util.OptionalLong.of(files.get(fd).size()) : java.util.OptionalLong.empty());
            int gmem = dev.kvmharness.mmu.memslot.Memslot.KVM_MEM_GUEST_MEMFD;
            assertThatThrownBy(() -> u.set(MemslotRequest.v2(10, gmem, 3L << 30, 2 << 20, 0, 0, 6)))
                    .hasMessageContaining("EINVAL");
            u.set(MemslotRequest.v2(10, gmem, 3L << 30, 4 << 20, 0, 0, 5));
            // Another slot over the same file pages, elsewhere in guest-physical space: EEXIST (7.2).
            assertThatThrownBy(() -> u.set(MemslotRequest.v2(11, gmem, 6L << 30, 2 << 20, 0, 2 << 20, 5)))
                    .hasMessageContaining("EEXIST").hasMessageContaining("already bound");
            u.set(MemslotRequest.v2(11, gmem, 6L << 30, 2 << 20, 0, 4 << 20, 5));
            assertThatThrownBy(() -> dev.kvmharness.mmu.memslot.GuestMemfd.create(kvm, 4097, 0)).hasMessageContaining("EINVAL");
            assertThatThrownBy(() -> dev.kvmharness.mmu.memslot.GuestMemfd.create(kvm, 4096, 1)).hasMessageContaining("EINVAL");
        } finally {
            sched.detachCurrent();
            sched.close();
        }
    }
}
