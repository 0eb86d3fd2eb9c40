// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import org.junit.jupiter.api.Test;

/**
 * What the host learns from KVM's SPTEs when they go away (handle_changed_spte): a guest write through a
 * writable SPTE sets no host PTE dirty bit, so zapping a dirty leaf must mark the host page dirty
 * (kvm_set_pfn_dirty), or the host may drop or skip writing back what the guest wrote.
 */
class HostPageStateTest {
    @Test
    void zappingADirtySpteMarksTheHostPageDirty() {
        try (MmuWorld w = new MmuWorld(19, SimConfig.defaults(), 1)) {
            long gfn = MmuWorld.SLOT2_GPA >>> 12;
            assertThat(Guest.read(w, 0, MmuWorld.SLOT2_GPA, new long[1])).isNull();
            EptWalk leaf = w.kvm.tdpMmu().walk(w.vcpus.get(0).root(), gfn);
            long pfn = Spte.pfn(leaf.spte());
            assertThat(Spte.isWritable(leaf.spte())).as("a read fault on writable anonymous memory maps the SPTE writable").isTrue();
            assertThat(w.phys.isDirty(pfn)).as("nothing wrote the page yet").isFalse();
            assertThat(Guest.write(w, 0, MmuWorld.SLOT2_GPA, 0x77)).isNull();
            assertThat(w.phys.isDirty(pfn)).as("the guest's write went through the SPTE, not the host page tables").isFalse();
            w.kvm.zapGfnRange(gfn, gfn + 1);
            assertThat(w.phys.isDirty(pfn)).as("zapping a dirty SPTE must mark pfn 0x%x dirty on the host", pfn).isTrue();
        }
    }
}
