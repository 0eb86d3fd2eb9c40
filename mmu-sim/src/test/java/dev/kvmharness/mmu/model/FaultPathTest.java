// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import org.junit.jupiter.api.Test;

/** The fault path's outcomes one by one: levels, MMIO caching, read-only slots, NX splits, fast faults. */
class FaultPathTest {
    private static MmuWorld world(SimConfig c) {
        return new MmuWorld(3, c, 1);
    }

    @Test
    void fiveLevelEptWhenMaxphyaddrNeedsIt() {
        try (MmuWorld w = world(SimConfig.defaults().withPhysBits(52))) {
            w.access(0, MmuWorld.SLOT2_GPA, true, false);
            assertThat(w.vcpus.get(0).root().level()).isEqualTo(5);
            EptWalk leaf = w.kvm.tdpMmu().walk(w.vcpus.get(0).root(), MmuWorld.SLOT2_GPA >>> 12);
            assertThat(Spte.isLeaf(leaf.spte(), leaf.level())).isTrue();
        }
    }

    @Test
    void noMemslotBecomesACachedMmioSpteThenExitsWithoutAFault() {
        try (MmuWorld w = world(SimConfig.defaults())) {
            SimVcpu v = w.vcpus.get(0);
            long gpa = 3L << 30;
            v.beginRun();
            assertThatThrownBy(() -> v.translate(gpa, 8, false)).isInstanceOf(GuestExit.class)
                    .extracting(e -> ((GuestExit) e).reason()).isEqualTo(GuestExit.Reason.MMIO);
            v.endRun(GuestExit.Reason.MMIO);
            assertThat(v.stats().pfMmioSpteCreated).isEqualTo(1);
            long taken = v.stats().pfTaken;
            v.beginRun();
            assertThatThrownBy(() -> v.translate(gpa, 8, false)).isInstanceOf(GuestExit.class);
            v.endRun(GuestExit.Reason.MMIO);
            assertThat(v.stats().pfTaken).as("a current-generation MMIO SPTE is emulated, not faulted").isEqualTo(taken);
            // A memslot update bumps the generation: the next access takes a real fault again.
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, MmuWorld.SLOT2_GPA, 0, w.hva2));
            v.beginRun();
            assertThatThrownBy(() -> v.translate(gpa, 8, false)).isInstanceOf(GuestExit.class);
            v.endRun(GuestExit.Reason.MMIO);
            assertThat(v.stats().pfTaken).isEqualTo(taken + 1);
        }
    }

    @Test
    void writesToAReadOnlySlotExitAsMmioWrites() {
        try (MmuWorld w = world(SimConfig.defaults())) {
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, MmuWorld.SLOT2_GPA, 0, w.hva2));
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, Memslot.KVM_MEM_READONLY, MmuWorld.SLOT2_GPA, MmuWorld.SLOT2_SIZE, w.hva2));
            w.mm.write(w.hva2, 8, 0x1234);
            SimVcpu v = w.vcpus.get(0);
            v.beginRun();
            long hpa = v.translate(MmuWorld.SLOT2_GPA, 8, false);
            assertThat(w.phys.read(hpa >>> 12, 0, 8)).isEqualTo(0x1234);
            GuestExit e = org.junit.jupiter.api.Assertions.assertThrows(GuestExit.class, () -> v.translate(MmuWorld.SLOT2_GPA, 8, true));
            v.endRun(e.reason());
            assertThat(e.reason()).isEqualTo(GuestExit.Reason.MMIO);
            assertThat(e.isWrite()).isTrue();
            assertThat(v.stats().pfEmulate).isEqualTo(1);
        }
    }

    @Test
    void nxMitigationSplitsOnExecAndRecoveryRestoresTheHugePage() {
        try (MmuWorld w = world(SimConfig.defaults().withNxHugePages(true))) {
            w.access(0, MmuWorld.SLOT1_GPA, false, false);
            assertThat(w.kvm.stats().pages[2]).as("data access: huge").isEqualTo(1);
            w.access(0, MmuWorld.SLOT1_GPA, false, true);
            assertThat(w.kvm.stats().pages[2]).as("exec: huge pages are NX, split").isZero();
            assertThat(w.kvm.stats().nxLpageSplits).isEqualTo(1);
            assertThat(w.kvm.stats().pages[1]).isEqualTo(512);
            assertThat(w.kvm.nxRecovery().recover()).isEqualTo(1);
            assertThat(w.kvm.stats().nxLpageSplits).isZero();
            w.access(0, MmuWorld.SLOT1_GPA + 4096, false, false);
            assertThat(w.kvm.stats().pages[2]).as("a data fault maps it huge again").isEqualTo(1);
            assertThat(w.oracle.violations()).isEmpty();
            assertThat(w.oracle.checkPageStats()).isNull();
        }
    }

    @Test
    void dirtyLoggingWriteProtectsAndFastFaultsLogTheWrite() {
        try (MmuWorld w = world(SimConfig.defaults())) {
            w.access(0, MmuWorld.SLOT1_GPA, true, false);
            assertThat(w.kvm.stats().pages[2]).isEqualTo(1);
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, 1, MmuWorld.SLOT1_GPA, MmuWorld.SLOT1_SIZE, w.hva1));
            assertThat(w.kvm.stats().pages[2]).as("eager split").isZero();
            assertThat(w.kvm.stats().pages[1]).isEqualTo(512);
            long dirtyBefore = w.dirtyLog.get(MmuWorld.SLOT1)[0];
            assertThat(dirtyBefore).isZero();
            w.access(0, MmuWorld.SLOT1_GPA + 3 * 4096, true, false);
            assertThat(w.vcpus.get(0).stats().pfFast).as("W restored without mmu_lock").isEqualTo(1);
            assertThat(w.dirtyLog.get(MmuWorld.SLOT1)[0]).isEqualTo(1L << 3);
            assertThat(w.kvm.stats().remoteTlbFlushRequests).as("enable + one harvest").isEqualTo(2);
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, 0, MmuWorld.SLOT1_GPA, MmuWorld.SLOT1_SIZE, w.hva1));
            w.access(0, MmuWorld.SLOT1_GPA, false, false);
            assertThat(w.kvm.stats().pages[2]).as("collapsed back to a huge page").isEqualTo(1);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }

    @Test
    void legacyPolicyAlsoPassesTheFaultPath() {
        try (MmuWorld w = world(SimConfig.defaults().withPolicy(Policy.legacy()))) {
            for (int i = 0; i < 16; i++) {
                w.access(0, MmuWorld.SLOT2_GPA + i * 4096L, true, false);
            }
            assertThat(w.kvm.stats().pages[1]).isEqualTo(16);
        }
    }

    /** Zap collapsible walks entries reaching outside the slot; a slot not 1 GiB aligned must not trip it. */
    @Test
    void stoppingDirtyLoggingOnAnUnalignedSlotCollapsesItsHugePages() {
        try (MmuWorld w = world(SimConfig.defaults())) {
            long gpa = (3L << 30) + (2L << 20);
            long size = 4L << 20;
            long hva = w.mm.mmap(size, dev.kvmharness.mmu.host.Backing.ANON_THP);
            w.memslots.set(MemslotRequest.v1(5, 0, gpa, size, hva));
            w.memslots.set(MemslotRequest.v1(5, 1, gpa, size, hva));
            w.access(0, gpa, true, false);
            assertThat(w.kvm.stats().pages[2]).isZero();
            w.memslots.set(MemslotRequest.v1(5, 0, gpa, size, hva));
            w.access(0, gpa + 4096, false, false);
            assertThat(w.kvm.stats().pages[2]).isEqualTo(1);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }

    /** kvm_clear_dirty_log_protect(): a range starting at the slot's end is empty, not an error. */
    @Test
    void clearDirtyLogAtTheSlotsEndIsANoOp() {
        try (MmuWorld w = world(SimConfig.defaults())) {
            w.kvm.enableManualDirtyLogProtect(false);
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 1, MmuWorld.SLOT2_GPA, MmuWorld.SLOT2_SIZE, w.hva2));
            w.dirtyLog.clear(MmuWorld.SLOT2, MmuWorld.SLOT2_SIZE >>> 12, 0, new long[0]);
            assertThatThrownBy(() -> w.dirtyLog.clear(MmuWorld.SLOT2, 1, 64, new long[1]))
                    .hasMessageContaining("EINVAL");
            assertThatThrownBy(() -> w.dirtyLog.clear(7, 0, 64, new long[1])).hasMessageContaining("ENOENT");
        }
    }
}
