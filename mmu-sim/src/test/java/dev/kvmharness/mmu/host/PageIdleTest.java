// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.notifier.KvmMmuNotifier;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import org.junit.jupiter.api.Test;

/**
 * Idle page tracking on the simulated host, end to end through the model: the bitmap write clears the host PTE's
 * and, through the MMU notifier's clear_young, KVM's SPTE's Accessed bit; a guest access after that (through a
 * TLB miss) sets the SPTE's bit again, so the page reads not idle; a page nobody touched stays idle. Pages are
 * found as the C test finds them, through /proc/self/pagemap.
 */
class PageIdleTest {
    private static final long PAGE = 4096;

    private static MmuWorld world() {
        return new MmuWorld(1, SimConfig.defaults(), 2);
    }

    /** The pfn of slot 2's page {@code i} as pagemap shows it. */
    private static long pfn(MmuWorld w, int i) {
        long e = w.mm.pagemap().entry(w.hva2 + i * PAGE);
        assertThat(e & Pagemap.PM_PRESENT).as("page %d present in pagemap", i).isNotZero();
        return e & Pagemap.PM_PFRAME_MASK;
    }

    private static long spte(MmuWorld w, int vcpu, long gpa) {
        EptWalk leaf = w.kvm.tdpMmu().walk(w.vcpus.get(vcpu).root(), gpa >>> 12);
        assertThat(Spte.isPresent(leaf.spte())).as("SPTE of gpa 0x%x present", gpa).isTrue();
        return leaf.spte();
    }

    @Test
    void markingIdleClearsTheSptesAccessedBitThroughTheClearYoungNotifier() {
        try (MmuWorld w = world()) {
            long gpa = MmuWorld.SLOT2_GPA;
            w.access(0, gpa, true, false);
            assertThat(Spte.isAccessed(spte(w, 0, gpa))).as("the guest's write set the SPTE's A bit").isTrue();
            KvmMmuNotifier n = w.kvm.notifier();
            long aged = n.ageCallbacks();

            w.mm.pageIdle().markIdle(pfn(w, 0));

            assertThat(n.ageCallbacks() - aged).as("kvm_mmu_notifier_clear_young calls for one page marked idle").isEqualTo(1);
            assertThat(n.ageYoung()).as("the call found the SPTE young").isEqualTo(1);
            assertThat(Spte.isAccessed(spte(w, 0, gpa)))
                    .as("SPTE A bit after marking the page idle: page_idle must reach KVM's aging through clear_young")
                    .isFalse();
            assertThat(Spte.isPresent(spte(w, 0, gpa))).as("aging with A/D bits keeps the mapping").isTrue();
            assertThat(w.mm.pageIdle().markedIdle()).isEqualTo(1);
        }
    }

    @Test
    void aPageAVcpuTouchesAfterItWasMarkedIdleReadsNotIdle() {
        try (MmuWorld w = world()) {
            long gpa = MmuWorld.SLOT2_GPA;
            w.access(0, gpa, true, false);
            long pfn = pfn(w, 0);
            w.mm.pageIdle().markIdle(pfn);
            // vCPU 1 has never cached this translation: its access walks the EPT, which sets the A bit.
            w.access(1, gpa, false, false);
            assertThat(w.mm.pageIdle().isIdle(pfn))
                    .as("a page a vCPU read after it was marked idle: KVM's young SPTE must make it not idle").isFalse();
            assertThat(w.mm.pageIdle().foundReferenced()).isEqualTo(2);
        }
    }

    @Test
    void aPageNobodyTouchedStaysIdle() {
        try (MmuWorld w = world()) {
            w.access(0, MmuWorld.SLOT2_GPA, true, false);
            w.access(0, MmuWorld.SLOT2_GPA + PAGE, true, false);
            long touched = pfn(w, 0);
            long untouched = pfn(w, 1);
            w.mm.pageIdle().markIdle(touched);
            w.mm.pageIdle().markIdle(untouched);
            w.access(1, MmuWorld.SLOT2_GPA, true, false);
            assertThat(w.mm.pageIdle().isIdle(untouched)).as("a page nobody touched after marking").isTrue();
            assertThat(w.mm.pageIdle().isIdle(touched)).as("a page vCPU 1 wrote after marking: its SPTE is young again").isFalse();
            assertThat(w.mm.pageIdle().isIdle(untouched)).as("reading does not make a page young").isTrue();
        }
    }

    @Test
    void anAccessThroughACachedTranslationSetsNoAccessedBitSoThePageStaysIdle() {
        try (MmuWorld w = world()) {
            long gpa = MmuWorld.SLOT2_GPA;
            w.access(0, gpa, true, false);
            long pfn = pfn(w, 0);
            w.mm.pageIdle().markIdle(pfn);
            // clear_young flushes no TLB: vCPU 0 still holds the translation and uses it without walking the EPT.
            w.access(0, gpa, true, false);
            assertThat(w.mm.pageIdle().isIdle(pfn)).as("why the C test allows up to 10%% still idle").isTrue();
        }
    }

    @Test
    void aHostAccessMakesThePageYoungThroughItsPte() {
        try (MmuWorld w = world()) {
            w.access(0, MmuWorld.SLOT2_GPA, true, false);
            long pfn = pfn(w, 0);
            w.mm.pageIdle().markIdle(pfn);
            w.mm.read(w.hva2, 8);
            assertThat(w.mm.pageIdle().isIdle(pfn)).as("the VMM read the page through its mapping").isFalse();
        }
    }

    @Test
    void theBitmapIsSixtyFourPfnsPerWordAndReadingAnIdleWordClearsReferencesOfAllOfThem() {
        try (MmuWorld w = world()) {
            for (int i = 0; i < 64; i++) {
                w.access(0, MmuWorld.SLOT2_GPA + i * PAGE, true, false);
            }
            long first = pfn(w, 0);
            assertThat(first % 64).as("slot 2's pages fill aligned pfn blocks").isZero();
            PageIdle idle = w.mm.pageIdle();
            idle.write(first / 64 * 8, -1L);
            assertThat(idle.markedIdle()).isEqualTo(64);
            for (int i = 0; i < 64; i += 2) {
                w.access(1, MmuWorld.SLOT2_GPA + i * PAGE, false, false);
            }
            assertThat(idle.read(first / 64 * 8)).as("odd pages untouched, even ones read by vCPU 1")
                    .isEqualTo(0xAAAA_AAAA_AAAA_AAAAL);
            assertThatThrownBy(() -> idle.read(4)).isInstanceOf(SimKvmException.class).hasMessageContaining("EINVAL");
            assertThatThrownBy(() -> idle.write(PhysMem.MAX_PFN / 8, 1)).isInstanceOf(SimKvmException.class)
                    .hasMessageContaining("ENXIO");
        }
    }

    @Test
    void hugetlbFoliosAndTailPagesAreNotTracked() {
        try (MmuWorld w = world()) {
            long huge = w.mm.mmap(2L << 20, Backing.ANON_HUGETLB_2M);
            w.mm.write(huge, 8, 1);
            long head = w.mm.pagemap().entry(huge) & Pagemap.PM_PFRAME_MASK;
            w.mm.pageIdle().markIdle(head);
            assertThat(w.mm.pageIdle().isIdle(head)).as("hugetlb folios are on no LRU list").isFalse();
            assertThat(w.mm.pageIdle().markedIdle()).isZero();

            long thp = w.hva1;
            w.mm.write(thp + PAGE, 8, 1);
            long tail = w.mm.pagemap().entry(thp + PAGE) & Pagemap.PM_PFRAME_MASK;
            long thpHead = w.mm.pagemap().entry(thp) & Pagemap.PM_PFRAME_MASK;
            assertThat(tail).isEqualTo(thpHead + 1);
            w.mm.pageIdle().markIdle(tail);
            assertThat(w.mm.pageIdle().markedIdle()).as("a tail pfn is ignored").isZero();
            w.mm.pageIdle().markIdle(thpHead);
            assertThat(w.mm.pageIdle().isIdle(thpHead)).as("a THP is tracked by its head").isTrue();
        }
    }

    @Test
    void pagemapShowsPresencePfnAndTheKindOfMapping() {
        try (MmuWorld w = world()) {
            Pagemap pm = w.mm.pagemap();
            assertThat(pm.entry(w.hva2)).as("an untouched page of a VMA: only soft-dirty (VM_SOFTDIRTY)")
                    .isEqualTo(Pagemap.PM_SOFT_DIRTY);
            assertThat(pm.entry(0x1000)).as("no VMA").isZero();
            w.mm.write(w.hva2, 8, 7);
            long e = pm.entry(w.hva2);
            assertThat(e & ~Pagemap.PM_PFRAME_MASK)
                    .isEqualTo(Pagemap.PM_PRESENT | Pagemap.PM_MMAP_EXCLUSIVE | Pagemap.PM_SOFT_DIRTY);
            assertThat(e & Pagemap.PM_PFRAME_MASK).isEqualTo(w.mm.pfnIfMapped(w.hva2));

            MemFd f = new MemFd(w.phys, "shm", 2L << 20, PAGE);
            long a = w.mm.mmap(2L << 20, f, 0);
            long b = w.mm.mmap(2L << 20, f, 0);
            f.close();
            w.mm.write(a, 8, 1);
            assertThat(pm.entry(a) & (Pagemap.PM_FILE | Pagemap.PM_MMAP_EXCLUSIVE))
                    .as("a shmem page mapped once").isEqualTo(Pagemap.PM_FILE | Pagemap.PM_MMAP_EXCLUSIVE);
            w.mm.read(b, 8);
            assertThat(pm.entry(a) & Pagemap.PM_MMAP_EXCLUSIVE).as("mapped through the alias too").isZero();
            assertThat(pm.entry(b) & Pagemap.PM_PFRAME_MASK).isEqualTo(pm.entry(a) & Pagemap.PM_PFRAME_MASK);

            // Both mappings are aged: a touch through either makes the page young.
            long pfn = pm.entry(a) & Pagemap.PM_PFRAME_MASK;
            w.mm.pageIdle().markIdle(pfn);
            assertThat(w.mm.pageIdle().isIdle(pfn)).isTrue();
            w.mm.read(b, 8);
            assertThat(w.mm.pageIdle().isIdle(pfn)).as("young through the second mapping").isFalse();
        }
    }

    @Test
    void theReverseMapIsIndexedOnceWhileNoMappingChanges() {
        try (MmuWorld w = world()) {
            for (int i = 0; i < 8; i++) {
                w.access(0, MmuWorld.SLOT2_GPA + i * PAGE, true, false);
            }
            for (int i = 0; i < 8; i++) {
                w.mm.pageIdle().markIdle(pfn(w, i));
                w.mm.pageIdle().isIdle(pfn(w, i));
            }
            Rmap rmap = w.mm.rmap();
            assertThat(rmap.builds()).as("pagemap and page_idle over unchanging mappings").isEqualTo(1);
            w.access(0, MmuWorld.SLOT2_GPA + 8 * PAGE, true, false);
            long fresh = pfn(w, 8);
            assertThat(rmap.builds()).as("a new page was mapped since").isEqualTo(2);
            w.mm.pageIdle().markIdle(fresh);
            assertThat(w.mm.pageIdle().isIdle(fresh)).isTrue();
            w.mm.madviseDontneed(w.hva2 + 8 * PAGE, PAGE);
            assertThat(w.mm.pageIdle().isIdle(fresh)).as("a freed page is not idle").isFalse();
        }
    }
}
