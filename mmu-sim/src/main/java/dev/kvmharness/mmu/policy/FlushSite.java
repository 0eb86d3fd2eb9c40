// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.policy;

/**
 * Every place the model issues a TLB flush KVM needs for correctness. A test-only policy switch drops one, and
 * the property tests check that the stale-translation oracle then notices: the flush is load-bearing.
 */
public enum FlushSite {
    /** kvm_zap_gfn_range(): the flush after kvm_tdp_mmu_zap_leafs(). */
    ZAP_GFN_RANGE,
    /** tdp_mmu_iter_cond_resched(): the pending flush before yielding. */
    YIELD,
    /** __kvm_handle_hva_range(): flush_on_ret after the notifier's unmap. */
    NOTIFIER_UNMAP,
    /** kvm_mmu_slot_apply_flags(): the flush after write-protecting a slot for dirty logging. */
    DIRTY_LOG_ENABLE,
    /** KVM_GET_DIRTY_LOG: the memslot flush after re-protecting harvested pages. */
    GET_DIRTY_LOG,
    /** KVM_CLEAR_DIRTY_LOG: the memslot flush after re-protecting cleared pages. */
    CLEAR_DIRTY_LOG,
    /** tdp_mmu_zap_spte_atomic(): the flush between freezing and clearing (zap collapsible). */
    ZAP_SPTE_ATOMIC,
    /** kvm_recover_nx_huge_pages(): the flush after zapping NX-split pages. */
    NX_RECOVERY,
    /** tdp_mmu_map_handle_target_level(): the flush after replacing a table with a huge page. */
    HUGE_PAGE_REPLACE,
    /** kvm_arch_flush_shadow_memslot() with the slot-zap-all quirk off: the flush after unmapping the slot. */
    MEMSLOT_ZAP,
    /** legacy handle_removed_tdp_mmu_page(): the flush per removed page table. */
    REMOVED_PT,
    /** legacy kvm_mmu_zap_collapsible_sptes(): the final memslot flush after zapping collapsible tables. */
    COLLAPSE_FINAL,
    /**
     * kvm_tdp_mmu_zap_collapsible_sptes() batched, and kvm_tdp_mmu_recover_huge_pages() (6.13): the one memslot
     * flush per root after the walk, before dropping RCU.
     */
    COLLAPSE_BATCH,
    /** clear_flush_young: the flush after clearing Accessed bits (aging, not correctness). */
    AGE,
    /** kvm_mmu_load(): the local flush of a newly loaded root. */
    ROOT_LOAD
}
