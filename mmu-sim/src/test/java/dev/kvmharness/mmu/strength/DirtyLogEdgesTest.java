// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import org.junit.jupiter.api.Test;

/**
 * Dirty logging where the generated histories do not reach: a slot whose size is not a multiple of 64 pages
 * (the last bitmap word is partial), and huge pages left in place when logging starts (eager_page_split off).
 */
class DirtyLogEdgesTest {
    private static final int SLOT = 5;
    private static final long GPA = 3L << 30;

    /** kvm.eager_page_split=0: huge pages stay mapped (write-protected) when logging starts. */
    private static SimConfig noEagerSplit() {
        return SimConfig.defaults().withEagerPageSplit(false);
    }

    @Test
    void clearDirtyLogOfAPartialLastWordClearsAndReprotectsTheSlotsLastPage() {
        int npages = 100;
        try (MmuWorld w = new MmuWorld(7, SimConfig.defaults(), 1)) {
            w.kvm.enableManualDirtyLogProtect(false);
            long hva = w.mm.mmap((long) npages << 12, Backing.ANON);
            w.memslots.set(MemslotRequest.v1(SLOT, Memslot.KVM_MEM_LOG_DIRTY_PAGES, GPA, (long) npages << 12, hva));
            for (int p = 0; p < npages; p++) {
                assertThat(Guest.write(w, 0, GPA + ((long) p << 12), p)).isNull();
            }
            long[] before = w.dirtyLog.get(SLOT);
            assertThat(before[1]).as("pages 64..99 dirty").isEqualTo((1L << 36) - 1);
            // KVM_CLEAR_DIRTY_LOG of [64, 100): num_pages 36 is allowed because it reaches the slot's end.
            w.dirtyLog.clear(SLOT, 64, npages - 64, new long[] {-1L});
            long[] after = w.dirtyLog.get(SLOT);
            assertThat(after[0]).as("pages 0..63 were not cleared").isEqualTo(-1L);
            assertThat(after[1]).as("KVM_CLEAR_DIRTY_LOG of [64, 100) left bits 0x%x set: the mask of the last partial"
                    + " bitmap word must cover all %d remaining pages, the slot's last page included", after[1], npages - 64)
                    .isZero();
            EptWalk leaf = w.kvm.tdpMmu().walk(w.vcpus.get(0).root(), (GPA >>> 12) + npages - 1);
            assertThat(Spte.isWritable(leaf.spte())).as("the slot's last page must be write-protected again after the clear,"
                    + " or its next write is not logged").isFalse();
            assertThat(Guest.write(w, 0, GPA + ((long) (npages - 1) << 12), 1)).isNull();
            assertThat(w.dirtyLog.get(SLOT)[1]).as("the next write to the last page is logged").isEqualTo(1L << 35);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }

    @Test
    void writesToEveryPageOfAWriteProtectedHugePageAreLogged() {
        try (MmuWorld w = new MmuWorld(7, noEagerSplit(), 1)) {
            assertThat(Guest.write(w, 0, MmuWorld.SLOT1_GPA, 1)).isNull();
            assertThat(w.kvm.stats().pages[2]).as("THP-backed slot 1 maps 2M").isEqualTo(1);
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, Memslot.KVM_MEM_LOG_DIRTY_PAGES, MmuWorld.SLOT1_GPA,
                    MmuWorld.SLOT1_SIZE, w.hva1));
            assertThat(w.kvm.stats().pages[2]).as("no eager split: the huge page stays, write-protected").isEqualTo(1);
            for (int p = 0; p < 4; p++) {
                assertThat(Guest.write(w, 0, MmuWorld.SLOT1_GPA + ((long) p << 12), 2 + p)).isNull();
            }
            long bits = w.dirtyLog.get(MmuWorld.SLOT1)[0];
            assertThat(bits).as("writes to pages 0-3 of a huge page in a dirty-logged slot logged only 0x%x: a write"
                    + " fault on a huge SPTE of a logged slot must split it, not make the 2M SPTE writable (fast_page_fault)",
                    bits).isEqualTo(0xfL);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }

    /**
     * clear_dirty_pt_masked() skips an SPTE whose W bit is already clear: nothing wrote through it, so the page
     * it maps must not be marked dirty (with initially-set bitmaps every bit starts set, written or not). The
     * host maps the slot PROT_READ, so the read maps a read-only SPTE over a clean page.
     */
    @Test
    void clearDirtyLogOfAPageOnlyReadDoesNotDirtyIt() {
        try (MmuWorld w = new MmuWorld(7, SimConfig.defaults(), 1)) {
            w.kvm.enableManualDirtyLogProtect(true);
            long hva = w.mm.mmap(64L << 12, Backing.ANON, false);
            w.memslots.set(MemslotRequest.v1(SLOT, Memslot.KVM_MEM_LOG_DIRTY_PAGES, GPA, 64L << 12, hva));
            assertThat(Guest.read(w, 0, GPA, new long[1])).isNull();
            EptWalk leaf = w.kvm.tdpMmu().walk(w.vcpus.get(0).root(), GPA >>> 12);
            assertThat(Spte.isPresent(leaf.spte()) && !Spte.isWritable(leaf.spte())).as("a read of a PROT_READ mapping maps a read-only SPTE")
                    .isTrue();
            long pfn = Spte.pfn(leaf.spte());
            assertThat(w.phys.isDirty(pfn)).as("a page only read starts clean").isFalse();
            w.dirtyLog.clear(SLOT, 0, 64, new long[] {1L});
            assertThat(w.phys.isDirty(pfn)).as("KVM_CLEAR_DIRTY_LOG marked pfn 0x%x dirty though its SPTE was not"
                    + " writable: clear_dirty_pt_masked() must skip SPTEs whose W bit is already clear", pfn).isFalse();
            assertThat(w.oracle.violations()).isEmpty();
        }
    }
}
