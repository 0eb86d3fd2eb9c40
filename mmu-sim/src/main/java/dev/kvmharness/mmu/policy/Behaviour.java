// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.policy;

import java.util.Locale;

/**
 * One change in how KVM's TDP MMU behaves, from upstream series of 5.10 to 6.15. A {@link Policy} is a set of
 * these: {@code 6.12} has every one that 6.12 has, {@code 5.16} none of the zap/flush overhaul's, {@code 6.13}
 * and {@code 6.15} add the ones merged since ({@link #since()}), so each can be switched on or off alone and
 * its effect measured. Each constant cites the
 * upstream commit by title; "overhaul" is the series "KVM: x86/mmu: Overhaul TDP MMU zapping and flushing"
 * (Sean Christopherson, v4 queued by Paolo Bonzini in March 2022, Linux 5.18). docs/BEHAVIOURS.md says what
 * each switch changes in the model, and links the series.
 */
public enum Behaviour {
    /**
     * handle_removed_pt() does not flush; the caller flushes before dropping RCU. "KVM: x86/mmu: Defer TLB flush
     * to caller when freeing TDP MMU shadow pages" (overhaul).
     */
    DEFER_REMOVED_PT_FLUSH(true),
    /**
     * Zapping invalidated (unreachable) roots needs no flush. "KVM: x86/mmu: Document that zapping invalidated roots
     * doesn't need to flush" (overhaul).
     */
    NO_FLUSH_FOR_INVALID_ROOTS(true),
    /**
     * kvm_tdp_mmu_zap_all() does not flush: no vCPU can run. "KVM: x86/mmu: Skip remote TLB flush when zapping all
     * of TDP MMU" (overhaul).
     */
    NO_FLUSH_ZAP_ALL(true),
    /**
     * Valid roots live until invalidated; the last put only RCU-frees an already empty root. "KVM: x86/mmu: Preserve
     * TDP MMU roots until they are explicitly invalidated" (around 6.5; title only, see docs/BEHAVIOURS.md).
     */
    PRESERVE_ROOTS_UNTIL_INVALIDATED(true),
    /**
     * kvm_zap_gfn_range() zaps leaf SPTEs only. "KVM: x86/mmu: Zap only TDP MMU leafs in kvm_zap_gfn_range()"
     * (overhaul).
     */
    ZAP_GFN_RANGE_LEAFS_ONLY(true),
    /**
     * NX recovery zaps just the SP's parent SPTE, one flush per batch. "KVM: x86/mmu: Zap only the target TDP MMU
     * shadow page in NX recovery" (overhaul).
     */
    NX_RECOVERY_ZAP_SP(true),
    /**
     * On yield, flush before dropping RCU rather than after. "KVM: x86/mmu: Do remote TLB flush before dropping RCU
     * in TDP MMU resched" (overhaul).
     */
    FLUSH_BEFORE_YIELD(true),
    /**
     * The notifier's final flush comes from the zapper's return, not OR-ed with an earlier yield-flush. "KVM: x86/mmu:
     * Skip tlb flush if it has been done in zap_gfn_range()" (Hou Wenlong, carried in the overhaul).
     */
    NOTIFIER_FLUSH_FROM_ZAPPER(true),
    /**
     * Disabling dirty logging flushes per zapped collapsible SPTE only, with no final memslot flush. "KVM: x86/mmu:
     * Remove spurious TLB flushes in TDP MMU zap collapsible path" (overhaul).
     */
    ZAP_COLLAPSIBLE_NO_FINAL_FLUSH(true),
    /**
     * A fault that must split a huge page splits it in place without a flush: the eager page splitting work of 6.0
     * ("KVM: x86/mmu: Avoid unnecessary flush on eager page split"; 6.12's kvm_tdp_mmu_map() calls
     * tdp_mmu_split_huge_page()).
     */
    IN_PLACE_SPLIT_ON_FAULT(true),
    /**
     * Replacing a table by a huge page flushes once, explicitly, after the cmpxchg: the fault path's share of the
     * overhaul's deferred flush.
     */
    EXPLICIT_FLUSH_ON_HUGE_REPLACE(true),
    /**
     * An MMU notifier overlapping no memslot takes no lock and bumps no sequence: patches 15-16 of "KVM: Consolidate
     * and optimize MMU notifiers" (Sean Christopherson, 5.13).
     */
    NOTIFIER_LOCK_ELISION(true),
    /**
     * A fault on an invalidated root returns RET_PF_RETRY. "KVM: x86/mmu: Retry page fault if root is invalidated by
     * memslot update" (overhaul).
     */
    RETRY_FAULT_ON_INVALID_ROOT(true),
    /**
     * Iterators that may yield skip invalid roots; no new references to them. "KVM: x86/mmu: do not allow readers to
     * acquire references to invalid roots" (overhaul v4).
     */
    ONLY_VALID_ROOT_ITERATORS(true),
    /**
     * Invalidated roots are zapped by a per-VM worker, flushed before the memslot update returns (5.18-6.5).
     * "KVM: x86/mmu: Zap invalidated roots via asynchronous worker" (overhaul v4).
     */
    ASYNC_ZAP_INVALIDATED_ROOTS(false),
    /**
     * tdp_mmu_zap_root() zaps in passes (4K, 2M, 1G, root) so it can yield inside huge subtrees. Grown from "KVM:
     * x86/mmu: Zap roots in two passes to avoid inducing RCU stalls" (overhaul v4).
     */
    MULTI_PASS_ROOT_ZAP(true),
    /**
     * Enabling dirty logging splits the slot's huge pages to 4K up front (kvm.eager_page_split): "KVM: x86/mmu:
     * Eager Page Splitting for the TDP MMU" (David Matlack, 5.17).
     */
    EAGER_PAGE_SPLIT(true),
    /**
     * Page faults take mmu_lock for read and install SPTEs with cmpxchg; else for write. "Allow parallel MMU
     * operations with TDP MMU" (Ben Gardon, 5.12).
     */
    FAULTS_UNDER_READ_LOCK(true),
    /**
     * clear_flush_young issues no TLB flush: x86 selects KVM_ELIDE_TLB_FLUSH_IF_YOUNG, so a vCPU may keep using
     * a cached translation whose Accessed bit was cleared (aging is a heuristic). "KVM: x86: Don't emit TLB
     * flushes when aging SPTEs" (Sean Christopherson, 6.13).
     */
    AGE_WITHOUT_FLUSH("6.13"),
    /**
     * Zapping collapsible SPTEs when dirty logging stops clears each with one cmpxchg, no freeze, and flushes
     * once for the batch (at a yield and at the end) instead of once per SPTE. "KVM: x86/mmu: Batch TLB flushes
     * when zapping collapsible TDP MMU SPTEs" (David Matlack, 6.13).
     */
    BATCH_COLLAPSIBLE_ZAP_FLUSH("6.13"),
    /**
     * Disabling dirty logging replaces each collapsible table by the huge SPTE it can become, in place
     * (kvm_tdp_mmu_recover_huge_pages()), so no vCPU has to fault it back. "KVM: x86/mmu: Recover TDP MMU huge
     * page mappings in-place instead of zapping" (David Matlack, 6.13).
     */
    RECOVER_HUGE_PAGES_IN_PLACE("6.13"),
    /**
     * The aging notifiers (clear_young, clear_flush_young, test_young) take no mmu_lock: the TDP MMU walks valid
     * roots under RCU and clears Accessed bits with an atomic AND. "KVM: x86/mmu: Relax locking for
     * kvm_test_age_gfn and kvm_age_gfn", from "KVM: x86/mmu: Age sptes locklessly" (James Houghton, 6.15).
     */
    LOCKLESS_AGING("6.15");

    /** The kernel all of 6.12's behaviours are in; {@link #since()} is later for the rest. */
    public static final String BASE_KERNEL = "6.12";

    private final boolean inCurrent;
    private final String since;

    Behaviour(boolean inCurrent) {
        this.inCurrent = inCurrent;
        this.since = null;
    }

    /** A behaviour merged after 6.12, in kernel {@code since}. */
    Behaviour(String since) {
        this.inCurrent = false;
        this.since = since;
    }

    /** Whether 6.12 behaves this way. */
    public boolean inCurrent() {
        return inCurrent;
    }

    /** The kernel that first behaves this way, for behaviours merged after 6.12; null for the older ones. */
    public String since() {
        return since;
    }

    /** Whether kernel {@code version} (a 6.12 or later one, "6.15") behaves this way. */
    public boolean inKernel(String version) {
        return since == null ? inCurrent : compareVersions(since, version) <= 0;
    }

    /** Orders kernel versions "major.minor" numerically ("6.9" before "6.13"). */
    static int compareVersions(String a, String b) {
        int c = Integer.compare(part(a, 0), part(b, 0));
        return c != 0 ? c : Integer.compare(part(a, 1), part(b, 1));
    }

    /** Part {@code i} (0: major, 1: minor) of "major.minor". */
    private static int part(String version, int i) {
        int dot = version.indexOf('.');
        if (dot < 0) {
            throw new IllegalArgumentException("kernel version '" + version + "' is not major.minor");
        }
        return Integer.parseInt(i == 0 ? version.substring(0, dot) : version.substring(dot + 1));
    }

    /** The name used on the command line: lower case, e.g. {@code defer_removed_pt_flush}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
