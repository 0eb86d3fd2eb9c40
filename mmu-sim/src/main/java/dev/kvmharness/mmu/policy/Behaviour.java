// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.policy;

/**
 * One change in how KVM's TDP MMU behaves, from the seed series (shared/seeds) and the kernels around them. A
 * {@link Policy} is a set of these: {@code current} (6.12) has every one that 6.12 has, {@code legacy} (~5.16)
 * none of the overhaul's, so each can be switched on or off alone and its effect measured. The numbers refer
 * to section 14 of the TDP MMU spec.
 */
public enum Behaviour {
    /** #1: handle_removed_pt() does not flush; the caller flushes before dropping RCU (overhaul, 5.18). */
    DEFER_REMOVED_PT_FLUSH(true),
    /** #2: zapping invalidated (unreachable) roots needs no flush (overhaul). */
    NO_FLUSH_FOR_INVALID_ROOTS(true),
    /** #3: kvm_tdp_mmu_zap_all() does not flush: no vCPU can run (overhaul). */
    NO_FLUSH_ZAP_ALL(true),
    /** #4: valid roots live until invalidated; the last put only RCU-frees an already empty root (~6.5). */
    PRESERVE_ROOTS_UNTIL_INVALIDATED(true),
    /** #5: kvm_zap_gfn_range() zaps leaf SPTEs only (overhaul). */
    ZAP_GFN_RANGE_LEAFS_ONLY(true),
    /** #6: NX recovery zaps just the SP's parent SPTE, one flush per batch (overhaul). */
    NX_RECOVERY_ZAP_SP(true),
    /** #7: on yield, flush before dropping RCU rather than after (overhaul). */
    FLUSH_BEFORE_YIELD(true),
    /** #8: the notifier's final flush comes from the zapper's return, not OR-ed with an earlier yield-flush. */
    NOTIFIER_FLUSH_FROM_ZAPPER(true),
    /** #10: disabling dirty logging flushes per zapped collapsible SPTE only, with no final memslot flush. */
    ZAP_COLLAPSIBLE_NO_FINAL_FLUSH(true),
    /** #11: a fault that must split a huge page splits it in place without a flush (6.0). */
    IN_PLACE_SPLIT_ON_FAULT(true),
    /** #12: replacing a table by a huge page flushes once, explicitly, after the cmpxchg. */
    EXPLICIT_FLUSH_ON_HUGE_REPLACE(true),
    /** #13: an MMU notifier overlapping no memslot takes no lock and bumps no sequence (5.13 consolidation). */
    NOTIFIER_LOCK_ELISION(true),
    /** #15: a fault on an invalidated root returns RET_PF_RETRY (overhaul). */
    RETRY_FAULT_ON_INVALID_ROOT(true),
    /** #16: iterators that may yield skip invalid roots; no new references to them (overhaul). */
    ONLY_VALID_ROOT_ITERATORS(true),
    /** Invalidated roots are zapped by a per-VM worker, flushed before the memslot update returns (5.18-6.5). */
    ASYNC_ZAP_INVALIDATED_ROOTS(false),
    /** tdp_mmu_zap_root() zaps in passes (4K, 2M, 1G, root) so it can yield inside huge subtrees (6.9). */
    MULTI_PASS_ROOT_ZAP(true),
    /** Enabling dirty logging splits the slot's huge pages to 4K up front (kvm.eager_page_split, 5.17). */
    EAGER_PAGE_SPLIT(true),
    /** Page faults take mmu_lock for read and install SPTEs with cmpxchg (the TDP MMU, 5.10); else for write. */
    FAULTS_UNDER_READ_LOCK(true);

    private final boolean inCurrent;

    Behaviour(boolean inCurrent) {
        this.inCurrent = inCurrent;
    }

    /** Whether 6.12 behaves this way. */
    public boolean inCurrent() {
        return inCurrent;
    }

    /** The name used on the command line: lower case, e.g. {@code defer_removed_pt_flush}. */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
