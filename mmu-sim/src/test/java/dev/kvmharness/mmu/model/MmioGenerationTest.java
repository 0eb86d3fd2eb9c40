// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.VcpuStats;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cached MMIO SPTEs carry the memslot generation they were made under (make_mmio_spte); creating a memslot
 * zaps nothing, with or without the slot-zap-all quirk, so the only thing that retires an MMIO SPTE for a gfn a
 * new slot now backs is the generation check in handle_mmio_page_fault(). Without it the guest's RAM access
 * would go on exiting to userspace as MMIO.
 */
class MmioGenerationTest {
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aSlotCreatedOverACachedMmioGfnTurnsItsAccessesIntoRam(boolean slotZapAllQuirk) {
        SimConfig c = SimConfig.defaults().withSlotZapAllQuirk(slotZapAllQuirk).withOracle(true);
        try (MmuWorld w = new MmuWorld(1, c, 1)) {
            VcpuStats st = w.vcpus.get(0).stats();
            long gpa = MmuWorld.SLOT3_GPA + 3 * 4096;
            assertThat(w.access(0, gpa, false, false)).as("no memslot: MMIO").isEqualTo(GuestExit.Reason.MMIO);
            assertThat(st.pfMmioSpteCreated).as("the first MMIO access caches an MMIO SPTE").isEqualTo(1);
            long taken = st.pfTaken;
            assertThat(w.access(0, gpa, false, false)).isEqualTo(GuestExit.Reason.MMIO);
            assertThat(st.pfTaken).as("the second one is answered from the cached MMIO SPTE, without a fault").isEqualTo(taken);

            w.toggleSlot3();
            assertThat(w.access(0, gpa, true, false))
                    .as("after KVM_SET_USER_MEMORY_REGION created slot 3 over the gfn, the cached MMIO SPTE is of an old"
                            + " memslot generation: handle_mmio_page_fault must not trust it, the access must reach RAM")
                    .isEqualTo(GuestExit.Reason.INTR);
            assertThat(w.oracle.violations()).isEmpty();
            assertThat(w.mm.read(w.hva3 + 3 * 4096, 8)).as("the guest's write landed in slot 3's memory").isEqualTo(gpa);
        }
    }
}
