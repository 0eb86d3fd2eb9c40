// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import dev.kvmharness.mmu.policy.Policy;

/**
 * The knobs of one simulated VM, with the defaults of a 6.12 host without Hyper-V: KVM module parameters
 * (nx_huge_pages, eager_page_split, mmio caching), the CPU (MAXPHYADDR, which picks 4- or 5-level EPT), the
 * VM's quirks, the TLB size, and how often long walks yield. Change one knob with a {@code withX} method, or
 * several at once through {@link #toBuilder()}; each field is named once, in {@link Builder}.
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
 * @param livelockFaults page faults one guest access may take in a row, with nothing the fault path checks
 *     changing and no other thread left to change it, before the simulator calls it a livelock
 *     ({@link dev.kvmharness.mmu.sched.SimLivelockException}) instead of retrying forever;
 *     {@link #LIVELOCK_BACKSTOP} times as many while other threads still run; not a KVM knob
 */
public record SimConfig(int physBits, int nrVcpusMax, int tlbEntries, boolean nxHugePages, int nxRecoveryRatio,
                        boolean eagerPageSplit, boolean mmioCaching, boolean slotZapAllQuirk, int yieldEvery,
                        boolean oracle, Policy policy, int livelockFaults) {
    /**
     * The default of {@link #livelockFaults}. With no other thread left to act, only the vCPU itself could end the
     * retries, and a fault path that found the same state 10 000 times running will find it forever: in the
     * module's tests, the selftests suite and demand_paging_test with 416 vCPUs, no fault retried even 50 times
     * that way. A model bug that retries forever then fails in milliseconds of wall time.
     */
    public static final int DEFAULT_LIVELOCK_FAULTS = 10_000;

    /**
     * How many times {@link #livelockFaults} faults in a row make a livelock while other threads still run (a
     * host thread polling for the vCPU, other vCPUs working). A fault legitimately retries for as long as another
     * thread holds an invalidation of its gfn, which grows with the host's work: mmu_stress_test's mprotect() of
     * its default 128 GiB keeps one write fault retrying about 205 000 times, the most those runs showed. The
     * default bound, 100 million, is 500 times that; the simulator takes that many faults in a few seconds of
     * wall time, so a livelock next to a polling thread fails soon instead of hanging.
     */
    public static final long LIVELOCK_BACKSTOP = 10_000;

    public SimConfig {
        if (Integer.bitCount(tlbEntries) != 1) {
            throw new IllegalArgumentException("tlbEntries must be a power of two, got " + tlbEntries);
        }
        if (physBits < 32 || physBits > 52) {
            throw new IllegalArgumentException("physBits must be in [32, 52], got " + physBits);
        }
        if (policy == null) {
            throw new IllegalArgumentException("policy is null");
        }
        if (livelockFaults < 1) {
            throw new IllegalArgumentException("livelockFaults must be at least 1, got " + livelockFaults);
        }
    }

    public static SimConfig defaults() {
        return new Builder().build();
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public SimConfig withPolicy(Policy p) {
        return toBuilder().policy(p).build();
    }

    public SimConfig withNxHugePages(boolean on) {
        return toBuilder().nxHugePages(on).build();
    }

    public SimConfig withEagerPageSplit(boolean on) {
        return toBuilder().eagerPageSplit(on).build();
    }

    public SimConfig withSlotZapAllQuirk(boolean on) {
        return toBuilder().slotZapAllQuirk(on).build();
    }

    public SimConfig withYieldEvery(int n) {
        return toBuilder().yieldEvery(n).build();
    }

    public SimConfig withOracle(boolean on) {
        return toBuilder().oracle(on).build();
    }

    public SimConfig withPhysBits(int bits) {
        return toBuilder().physBits(bits).build();
    }

    public SimConfig withLivelockFaults(int n) {
        return toBuilder().livelockFaults(n).build();
    }

    /** The EPT root level: 5 when MAXPHYADDR needs more than 48 bits. */
    public int rootLevel() {
        return physBits > 48 ? 5 : 4;
    }

    /** kvm_mmu_max_gfn(): the last gfn the host can address. */
    public long maxGfn() {
        return (1L << (physBits - 12)) - 1;
    }

    /** A SimConfig under construction; starts from the defaults. {@link #build()} checks the values. */
    public static final class Builder {
        private int physBits = 48;
        private int nrVcpusMax = 4096;
        private int tlbEntries = 2048;
        private boolean nxHugePages = false;
        private int nxRecoveryRatio = 60;
        private boolean eagerPageSplit = true;
        private boolean mmioCaching = true;
        private boolean slotZapAllQuirk = true;
        private int yieldEvery = 64;
        private boolean oracle = true;
        private Policy policy = Policy.current();
        private int livelockFaults = DEFAULT_LIVELOCK_FAULTS;

        /** The defaults. */
        public Builder() {
        }

        private Builder(SimConfig c) {
            physBits = c.physBits;
            nrVcpusMax = c.nrVcpusMax;
            tlbEntries = c.tlbEntries;
            nxHugePages = c.nxHugePages;
            nxRecoveryRatio = c.nxRecoveryRatio;
            eagerPageSplit = c.eagerPageSplit;
            mmioCaching = c.mmioCaching;
            slotZapAllQuirk = c.slotZapAllQuirk;
            yieldEvery = c.yieldEvery;
            oracle = c.oracle;
            policy = c.policy;
            livelockFaults = c.livelockFaults;
        }

        public Builder physBits(int v) {
            physBits = v;
            return this;
        }

        public Builder nrVcpusMax(int v) {
            nrVcpusMax = v;
            return this;
        }

        public Builder tlbEntries(int v) {
            tlbEntries = v;
            return this;
        }

        public Builder nxHugePages(boolean v) {
            nxHugePages = v;
            return this;
        }

        public Builder nxRecoveryRatio(int v) {
            nxRecoveryRatio = v;
            return this;
        }

        public Builder eagerPageSplit(boolean v) {
            eagerPageSplit = v;
            return this;
        }

        public Builder mmioCaching(boolean v) {
            mmioCaching = v;
            return this;
        }

        public Builder slotZapAllQuirk(boolean v) {
            slotZapAllQuirk = v;
            return this;
        }

        public Builder yieldEvery(int v) {
            yieldEvery = v;
            return this;
        }

        public Builder oracle(boolean v) {
            oracle = v;
            return this;
        }

        public Builder policy(Policy v) {
            policy = v;
            return this;
        }

        public Builder livelockFaults(int v) {
            livelockFaults = v;
            return this;
        }

        public SimConfig build() {
            return new SimConfig(physBits, nrVcpusMax, tlbEntries, nxHugePages, nxRecoveryRatio, eagerPageSplit, mmioCaching,
                    slotZapAllQuirk, yieldEvery, oracle, policy, livelockFaults);
        }
    }
}
