// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.Set;

/**
 * For each KVM stat, how closely the simulator should match this host, and whether it can at all. The simulator
 * models the TDP MMU (kvm_tdp_mmu_map, tdp_mmu_zap_*, kvm_flush_remote_tlbs), so its fault, flush and page
 * counters are comparable only where the host runs guests with the TDP MMU; on a shadow-paging host those
 * counters come from code the simulator does not model (the shadow MMU and the instruction emulator) or stay 0.
 * A row that cannot match is reported as not comparable, with the reason, never as a failure.
 */
final class CompareStatRules {
    private CompareStatRules() {
    }

    /**
     * A row's rule.
     *
     * @param comparable whether sim and real can agree on this host
     * @param reason why not (or a note when comparable)
     * @param relTolerance allowed |sim - real| as a fraction of real
     * @param absTolerance allowed |sim - real| in the stat's units, whatever real is
     */
    record Rule(boolean comparable, String reason, double relTolerance, long absTolerance) {
        String toleranceText() {
            if (relTolerance == 0 && absTolerance == 0) {
                return "exact";
            }
            String rel = relTolerance == 0 ? "" : "±" + Math.round(relTolerance * 100) + "%";
            String abs = absTolerance == 0 ? "" : "±" + absTolerance;
            return rel.isEmpty() ? abs : abs.isEmpty() ? rel : rel + " or " + abs;
        }

        /** Whether {@code sim} is within tolerance of {@code real}. */
        boolean within(double sim, double real) {
            return Math.abs(sim - real) <= Math.max((double) absTolerance, relTolerance * Math.abs(real));
        }
    }

    /** Page-fault counters of kvm_mmu_page_fault and the TDP fault path. */
    private static final Set<String> FAULTS = Set.of("pf_taken", "pf_fixed", "pf_fast", "pf_spurious", "pf_emulate",
            "pf_guest", "pf_mmio_spte_created");
    private static final Set<String> PAGES = Set.of("pages_4k", "pages_2m", "pages_1g");
    private static final Set<String> REMOTE_FLUSH = Set.of("remote_tlb_flush", "remote_tlb_flush_requests");
    /** Counters of the shadow MMU and the emulator: the simulator has neither. */
    private static final Set<String> SHADOW_ONLY = Set.of("mmu_pte_write", "mmu_cache_miss", "mmu_flooded",
            "mmu_pde_zapped", "mmu_recycled", "mmu_shadow_zapped", "mmu_unsync", "max_mmu_page_hash_collisions",
            "max_mmu_rmap_size", "insn_emulation", "insn_emulation_fail");
    /** Scheduling, interrupt, halt-polling and FPU bookkeeping: host-side behaviour the simulator does not model. */
    private static final Set<String> NOT_MODELLED = Set.of("blocking", "fpu_reload", "host_state_reload", "halt_attempted_poll",
            "halt_exits", "halt_poll_fail_ns", "halt_poll_invalid", "halt_poll_success_ns", "halt_successful_poll",
            "halt_wait_ns", "halt_wakeup", "irq_exits", "irq_window_exits", "nmi_window_exits", "request_irq_exits",
            "signal_exits", "l1d_flush", "hypercalls", "invlpg");

    static Rule rule(String name, HostKvm host) {
        HostKvm.Paging paging = host.paging();
        String shadow = "shadow paging here (" + host.vendor() + ", kvm.tdp_mmu="
                + (host.tdpMmu() == null ? "absent" : host.tdpMmu()) + "): faults go through the shadow MMU and the"
                + " emulator (insn_emulation, mmu_pte_write), not the TDP MMU the simulator models";
        boolean hardwareVendor = host.vendor().equals("kvm_intel") || host.vendor().equals("kvm_amd");
        if (name.equals("io_exits") || name.equals("mmio_exits")) {
            return hardwareVendor ? new Rule(true, "ucalls and MMIO accesses are the guest program's own", 0, 0)
                    : new Rule(false, "vendor module " + host.vendor() + " handles exits in its own code and does not"
                    + " count them as vmx/svm do (io_exits stays 0 for the ucalls here)", 0, 0);
        }
        if (name.equals("tlb_flush")) {
            return new Rule(true, "local flushes on vCPU load and requests; a few may differ", 0, 2);
        }
        if (FAULTS.contains(name) || PAGES.contains(name) || name.equals("nx_lpage_splits")) {
            return paging == HostKvm.Paging.SHADOW ? new Rule(false, shadow, 0, 0)
                    : new Rule(true, paging == HostKvm.Paging.TDP_MMU ? "TDP MMU on both" : "legacy MMU direct map: same faults",
                    0.01, 1);
        }
        if (REMOTE_FLUSH.contains(name)) {
            return switch (paging) {
                case TDP_MMU -> new Rule(true, "TDP MMU on both", 0.10, 2);
                case TDP_LEGACY_MMU -> new Rule(false, "kvm.tdp_mmu=N: the legacy MMU flushes at other sites than the TDP MMU", 0, 0);
                case SHADOW -> new Rule(false, shadow, 0, 0);
            };
        }
        if (name.equals("exits")) {
            return paging == HostKvm.Paging.SHADOW || !hardwareVendor
                    ? new Rule(false, "vendor module " + host.vendor() + " (or shadow paging) does not take one counted exit per guest fault", 0, 0)
                    : new Rule(true, "one exit per EPT violation plus the ucalls", 0.05, 2);
        }
        if (SHADOW_ONLY.contains(name)) {
            return new Rule(false, "shadow-MMU/emulator counter: the simulator models only the TDP MMU", 0, 0);
        }
        if (NOT_MODELLED.contains(name)) {
            return new Rule(false, "host scheduling, interrupt or FPU bookkeeping: not modelled by the simulator", 0, 0);
        }
        return new Rule(false, "no rule for this stat", 0, 0);
    }
}
