// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.observe.MmuObserver;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.Rcu;
import dev.kvmharness.mmu.sched.SimRwLock;
import dev.kvmharness.mmu.sched.SimScheduler;

/**
 * The part of {@code struct kvm} tdp_mmu.c reaches through its {@code kvm} argument: mmu_lock, RCU, the VM's
 * stats, the remote TLB flush, mark_page_dirty_in_slot(), the lpage_info check, and the module parameters and
 * test switches the flows read. The VM ({@code kvm.SimKvm}) implements it; the TDP MMU sees nothing else of it,
 * so the package does not depend on the VM that owns it.
 */
public interface TdpKvm {
    SimScheduler sched();

    Rcu rcu();

    SimRwLock mmuLock();

    Policy policy();

    /** Host memory, for kvm_set_pfn_dirty() / kvm_set_pfn_accessed() when a leaf goes away. */
    PhysMem phys();

    /** The observer of the VM (the stale-translation oracle or nobody). */
    MmuObserver observer();

    /** The root level: 4 or 5 (kvm_mmu_get_tdp_level()). */
    int rootLevel();

    /** The highest gfn the guest's MAXPHYADDR allows (zap walks stop after it). */
    long maxGfn();

    /** The need_resched() stand-in: yield after this many SPTEs visited (0: never). */
    int yieldEvery();

    /** Whether the debug checks (lockdep-style assertions, the oracle) are on. */
    boolean debugChecks();

    /** kvm_update_page_stats(): pages_4k / pages_2m / pages_1g at {@code level} change by {@code delta}. */
    void accountPages(int level, long delta);

    /** The nx_lpage_splits stat changes by {@code delta}. */
    void accountNxLpageSplits(long delta);

    /** kvm_flush_remote_tlbs(). */
    void flushRemoteTlbs(FlushSite site);

    /** kvm_flush_remote_tlbs_range() / _gfn(). */
    void flushRemoteTlbsRange(FlushSite site);

    /** mark_page_dirty_in_slot(). */
    void markPageDirtyInSlot(Memslot slot, long gfn);

    /** The lpage_info check of kvm_mmu_max_mapping_level(): may gfn be mapped at {@code level} in slot? */
    boolean lpageAllowed(Memslot slot, long gfn, int level);

    /** kvm.nx_huge_pages: huge pages are mapped non-executable, so an exec fault splits them. */
    boolean nxHugePages();
}
