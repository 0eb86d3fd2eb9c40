// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.TdpDirtyLog;
import dev.kvmharness.mmu.tdp.TdpZap;
import org.junit.jupiter.api.Test;

/**
 * Item (d) run small: the split that maps the huge page identically needs no flush (the oracle, checking every
 * vCPU's TLB after each split while the vCPUs write, finds nothing), costs fewer flushes than an unconditional
 * flush per huge page, and the oracle does see the case where the seed keeps the flush.
 */
class EagerSplitBenchTest {
    private static final EagerSplitBench.Config CFG = EagerSplitBench.Config.small();

    @Test
    void theFlushlessSplitIsSafeAndCheaperThanAFlushPerHugePage() {
        Policy current = Policy.current();
        EagerSplitBench.Result kvm = EagerSplitBench.run(CFG, current, EagerSplitBench.Split.KVM, 1);
        EagerSplitBench.Result checked = EagerSplitBench.run(CFG, current, EagerSplitBench.Split.CHECKED, 1);
        EagerSplitBench.Result flushEach = EagerSplitBench.run(CFG, current, EagerSplitBench.Split.FLUSH_EACH, 1);
        assertThat(kvm.hugePages()).isEqualTo(CFG.bytes() >> 21);
        assertThat(kvm.violations()).isEmpty();
        assertThat(checked.violations()).as("a checkpoint after every split, vCPUs writing meanwhile").isEmpty();
        assertThat(flushEach.violations()).isEmpty();
        assertThat(kvm.pages4k()).as("everything the vCPUs map now is 4K").isEqualTo(CFG.bytes() >> 12);
        assertThat(kvm.requests()).as("one flush for the write-protection, one per harvest").isEqualTo(1 + CFG.harvests());
        assertThat(flushEach.requests()).isEqualTo(kvm.requests() + kvm.hugePages());
        assertThat(flushEach.vcpuTlbFlushes()).isGreaterThan(kvm.vcpuTlbFlushes());
        assertThat(flushEach.enableNs()).isGreaterThan(checked.enableNs());
        assertThat(flushEach.writes()).as("the flushes cost the guest work in the same window").isLessThan(checked.writes());
    }

    /**
     * The case seed 003 keeps the flush for: a table that does not map the whole huge page (a reused, partly
     * populated one) installed without a flush leaves vCPUs translating through what is gone.
     */
    @Test
    void anInstalledTableThatUnmapsPartOfTheHugePageNeedsTheFlush() {
        try (SeedVm vm = new SeedVm(1, SimConfig.defaults().withPolicy(Policy.current()), 1)) {
            long hva = vm.mm.mmap(2L << 20, Backing.ANON_HUGETLB_2M);
            vm.setSlot(EagerSplitBench.SLOT, 0, EagerSplitBench.GPA, 2L << 20, hva);
            vm.run(0, 2, i -> EagerSplitBench.GPA + i * 4096L, i -> true, 10);
            assertThat(vm.kvm.stats().pages[Spte.PG_LEVEL_2M]).isEqualTo(1);
            Memslot slot = vm.kvm.memslots().byId(0, EagerSplitBench.SLOT);
            long gfn = slot.baseGfn();
            vm.kvm.mmuLock().readLock();
            TdpDirtyLog.trySplitHugePages(vm.kvm.tdpMmu(), slot, gfn, gfn + 512, Spte.PG_LEVEL_4K, true);
            vm.kvm.mmuLock().readUnlock();
            vm.oracle.checkpoint("identical split");
            assertThat(vm.oracle.violations()).isEmpty();
            // The new table without its second child: what installing a partly populated table would do.
            vm.kvm.mmuLock().writeLock();
            boolean owed = TdpZap.zapLeafs(vm.kvm.tdpMmu(), gfn + 1, gfn + 2, false, false);
            vm.kvm.mmuLock().writeUnlock();
            assertThat(owed).isTrue();
            vm.oracle.checkpoint("partial table, flush skipped");
            assertThat(vm.oracle.violations()).hasSize(1);
            assertThat(vm.oracle.violations().get(0).what()).contains("the SPTE is gone");
        }
    }
}
