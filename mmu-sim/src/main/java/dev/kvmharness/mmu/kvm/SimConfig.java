// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import dev.kvmharness.mmu.policy.Policy;

/**
 * The knobs of one simulated VM, with the defaults of a 6.12 host without Hyper-V: KVM module parameters
 * (nx_huge_pages, eager_page_split, mmio caching), the CPU (MAXPHYADDR, which picks 4- or 5-level EPT), the
 * VM's quirks, the TLB size, and how often long walks yield.
 *
 * @param physBits host MAXPHYADDR; above 48 the EPT root is level 5
 * @param nrVcpusMax KVM_CAP_MAX_VCPUS
 * @param tlbEntries translations each vCPU's TLB holds (a power of two)
 * @param nxHugePages the iTLB-multihit mitigation (kvm.nx_huge_pages): exec faults get no huge pages
 * @param nxRecoveryRatio kvm.nx_huge_pages_recovery_ratio (0 disables recovery)
 * @param eagerPageSplit kvm.eager_page_split
 * @param mmioCaching kvm.enable_mmio_caching
 * @param slotZapAllQuirk KVM_X86_QUIRK_SLOT_ZAP_ALL enabled (the default for KVM_X86_DEFAULT_VM)
 * @param yieldEvery a walk holding mmu_lock yields (cond_resched) after this many SPTEs when someone waits for
 *     the lock; 0 never yields
 * @param oracle check every translation the guest uses against the host pages and SPTEs (the stale-translation
 *     oracle); costs host time, not virtual time
 */
public record SimConfig(int physBits, int nrVcpusMax, int tlbEntries, boolean nxHugePages, int nxRecoveryRatio,
                        boolean eagerPageSplit, boolean mmioCaching, boolean slotZapAllQuirk, int yieldEvery,
                        boolean oracle, Policy policy) {
    public SimConfig {
        if (Integer.bitCount(tlbEntries) != 1) {
            throw new IllegalArgumentException("tlbEntries must be a power of two, got " + tlbEntries);
        }
        if (physBits < 32 || physBits > 52) {
            throw new IllegalArgumentException("physBits must be in [32, 52], got " + physBits);
        }
    }

    public static SimConfig defaults() {
        return new SimConfig(48, 4096, 2048, false, 60, true, true, true, 64, true, Policy.current());
    }

    public SimConfig withPolicy(Policy p) {
        return new SimConfig(physBits, nrVcpusMax, tlbEntries, nxHugePages, nxRecoveryRatio, eagerPageSplit, mmioCaching,
                slotZapAllQuirk, yieldEvery, oracle, p);
    }

    public SimConfig withNxHugePages(boolean on) {
        return new SimConfig(physBits, nrVcpusMax, tlbEntries, on, nxRecoveryRatio, eagerPageSplit, mmioCaching,
                slotZapAllQuirk, yieldEvery, oracle, policy);
    }

    public SimConfig withSlotZapAllQuirk(boolean on) {
        return new SimConfig(physBits, nrVcpusMax, tlbEntries, nxHugePages, nxRecoveryRatio, eagerPageSplit, mmioCaching,
                on, yieldEvery, oracle, policy);
    }

    public SimConfig withYieldEvery(int n) {
        return new SimConfig(physBits, nrVcpusMax, tlbEntries, nxHugePages, nxRecoveryRatio, eagerPageSplit, mmioCaching,
                slotZapAllQuirk, n, oracle, policy);
    }

    public SimConfig withOracle(boolean on) {
        return new SimConfig(physBits, nrVcpusMax, tlbEntries, nxHugePages, nxRecoveryRatio, eagerPageSplit, mmioCaching,
                slotZapAllQuirk, yieldEvery, on, policy);
    }

    public SimConfig withPhysBits(int bits) {
        return new SimConfig(bits, nrVcpusMax, tlbEntries, nxHugePages, nxRecoveryRatio, eagerPageSplit, mmioCaching,
                slotZapAllQuirk, yieldEvery, oracle, policy);
    }

    /** The EPT root level: 5 when MAXPHYADDR needs more than 48 bits. */
    public int rootLevel() {
        return physBits > 48 ? 5 : 4;
    }

    /** kvm_mmu_max_gfn(): the last gfn the host can address. */
    public long maxGfn() {
        return (1L << (physBits - 12)) - 1;
    }
}
