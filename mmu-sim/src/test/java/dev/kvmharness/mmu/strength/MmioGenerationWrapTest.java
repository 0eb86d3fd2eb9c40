// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import org.junit.jupiter.api.Test;

/**
 * An MMIO SPTE keeps only 19 bits of the memslot generation. After 2^18 memslot updates of an address space the
 * stored bits repeat, so KVM zaps every MMIO SPTE when they wrap to zero (kvm_mmu_invalidate_mmio_sptes);
 * otherwise an MMIO SPTE cached before a slot was created over its gfn looks current again and the guest's
 * RAM access exits to userspace as MMIO.
 */
class MmioGenerationWrapTest {
    private static final long MMIO_GPA = 3L << 30;
    private static final int SPARE = 6;
    private static final long SPARE_GPA = 4L << 30;

    @Test
    void aStaleMmioSpteIsZappedWhenTheGenerationWraps() {
        try (MmuWorld w = new MmuWorld(23, SimConfig.defaults().withOracle(false), 1)) {
            GuestExit first = Guest.read(w, 0, MMIO_GPA, new long[1]);
            assertThat(first).as("no memslot yet: MMIO").isNotNull();
            long cached = w.kvm.memslots().generation(0) & Spte.MMIO_GEN_MASK;
            EptWalk leaf = w.kvm.tdpMmu().walk(w.vcpus.get(0).root(), MMIO_GPA >>> 12);
            assertThat(Spte.isMmio(leaf.spte())).as("the fault cached an MMIO SPTE").isTrue();

            long hva = w.mm.mmap(2L << 20, Backing.ANON);
            w.mm.write(hva, 8, 0xabcd);
            w.memslots.set(MemslotRequest.v1(7, 0, MMIO_GPA, 2L << 20, hva));
            long spareHva = w.mm.mmap(4096, Backing.ANON);
            int flags = 0;
            w.memslots.set(MemslotRequest.v1(SPARE, flags, SPARE_GPA, 4096, spareHva));
            // Flag-only updates of an unrelated slot zap nothing; each one advances the generation by 2.
            long updates = 0;
            while ((w.kvm.memslots().generation(0) & Spte.MMIO_GEN_MASK) != cached) {
                flags ^= Memslot.KVM_MEM_LOG_DIRTY_PAGES;
                w.memslots.set(MemslotRequest.v1(SPARE, flags, SPARE_GPA, 4096, spareHva));
                updates++;
            }
            assertThat(updates).as("a whole wrap of the 19 stored bits").isGreaterThan(1L << 17);
            long[] v = new long[1];
            GuestExit e = Guest.read(w, 0, MMIO_GPA, v);
            assertThat(e).as("after %d memslot updates the generation's low 19 bits are those the MMIO SPTE at gpa 0x%x"
                    + " was cached with; a slot backs that gpa now, so the read must reach RAM, but it exited (%s):"
                    + " the MMIO SPTEs were not zapped when the generation wrapped", updates, MMIO_GPA, e).isNull();
            assertThat(v[0]).isEqualTo(0xabcd);
        }
    }
}
