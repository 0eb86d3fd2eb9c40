// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.fault;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.host.FaultResult;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.kvm.VcpuStats;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import dev.kvmharness.mmu.tdp.KvmMmuPage;
import dev.kvmharness.mmu.tdp.KvmPageFault;
import dev.kvmharness.mmu.tdp.PfResult;
import dev.kvmharness.mmu.tdp.TdpFault;

/**
 * kvm_mmu_page_fault() for a TDP vCPU (arch/x86/kvm/mmu/mmu.c): the MMIO shortcut, the lockless fast path,
 * kvm_faultin_pfn() (memslot, invalidation pre-checks, the host page), then under mmu_lock the staleness
 * checks and kvm_tdp_mmu_map(). One instance per vCPU.
 */
public final class PageFault {
    private final SimKvm kvm;
    private final SimVcpu vcpu;
    private final TdpFault tdpFault;
    /** The vCPU's one struct kvm_page_fault, reused fault after fault. */
    private final KvmPageFault fault = new KvmPageFault(0, false, false, Spte.PG_LEVEL_1G);
    /** fast_page_fault()'s walker, reused. */
    private final EptWalk fastWalk;
    /**
     * Which check made the last fault return RET_PF_RETRY, for a livelock report: a constant, so a retry costs
     * no allocation; {@link #describeRetry()} adds the state behind it when a report is made.
     */
    private RetryCause retryCause;

    /** The checks that return RET_PF_RETRY, in the order the fault path makes them. */
    private enum RetryCause {
        SLOT_INVALID("the memslot is KVM_MEMSLOT_INVALID (being deleted or moved)"),
        INVALIDATION_UNSAFE("mmu_invalidate_retry_gfn_unsafe() before kvm_faultin_pfn(): an invalidation covers the gfn"),
        ROOT_INVALID("is_page_fault_stale(): the vCPU's root is invalid"),
        INVALIDATION("is_page_fault_stale(): mmu_invalidate_retry_gfn() under mmu_lock"),
        MAP("kvm_tdp_mmu_map(): an SPTE on the walk was frozen, or another update won the cmpxchg");

        final String what;

        RetryCause(String what) {
            this.what = what;
        }
    }

    public PageFault(SimKvm kvm, SimVcpu vcpu) {
        this.kvm = kvm;
        this.vcpu = vcpu;
        this.tdpFault = new TdpFault(kvm.tdpMmu());
        this.fastWalk = new EptWalk(kvm.tdpMmu().tables());
    }

    /**
     * One EPT violation (or misconfiguration, when {@code spte} is an MMIO SPTE) at {@code gfn}; {@code spte} is
     * what the hardware walk found. Returns how the fault ended (RET_PF_*) when the vCPU should re-enter and retry
     * the access; throws {@link GuestExit} when userspace must handle it.
     */
    public PfResult handle(long gfn, boolean write, boolean exec, long spte) {
        VcpuStats st = vcpu.stats();
        if (Spte.isMmio(spte)) {
            handleMmioPageFault(gfn, write, spte);
        }
        st.pfTaken++;
        kvm.sched().charge(Cost.FAULT_BASE);
        // page_fault_can_be_fast(): with A/D bits, only a fault on a present SPTE can be fixed without mmu_lock.
        PfResult r = Spte.isPresent(spte) ? fastPageFault(gfn, write) : null;
        if (r == null) {
            r = slowPath(gfn, write, exec);
        } else {
            st.pfFast++;
        }
        switch (r) {
            case FIXED -> st.pfFixed++;
            case SPURIOUS -> st.pfSpurious++;
            case EMULATE -> {
                st.pfEmulate++;
                if (kvm.config().oracle()) {
                    kvm.observer().mmioExit(vcpu.id(), gfn, write, fault.memslotsGeneration, "emulated access");
                }
                throw new GuestExit(GuestExit.Reason.MMIO, gfn << 12, write, "no memslot, or a read-only one");
            }
            case RETRY -> kvm.sched().yieldPoint();
            default -> {
            }
        }
        return r;
    }

    /**
     * Why the last fault that returned RET_PF_RETRY did: the check, and for the invalidation checks the state it
     * saw (still the current state when the vCPU reports a livelock right after the fault; the vCPU's report
     * names its root itself).
     */
    public String describeRetry() {
        if (retryCause == null) {
            return "no fault returned RET_PF_RETRY";
        }
        return switch (retryCause) {
            case INVALIDATION_UNSAFE, INVALIDATION -> retryCause.what + " (the fault's mmu_seq " + fault.mmuSeq + "; "
                    + kvm.invalidate() + ")";
            default -> retryCause.what;
        };
    }

    private PfResult retry(RetryCause cause) {
        retryCause = cause;
        return PfResult.RETRY;
    }

    /** handle_mmio_page_fault(): a cached MMIO SPTE of the current generation means "emulate", no fault taken. */
    private void handleMmioPageFault(long gfn, boolean write, long spte) {
        long gen = kvm.memslots().generation(vcpu.asId());
        boolean updating = gen < 0;
        if (!updating && Spte.mmioGeneration(spte) == (gen & Spte.MMIO_GEN_MASK)) {
            kvm.sched().charge(Cost.MMIO_EXIT);
            if (kvm.config().oracle()) {
                kvm.observer().mmioExit(vcpu.id(), gfn, write, gen, "cached MMIO SPTE");
            }
            throw new GuestExit(GuestExit.Reason.MMIO, gfn << 12, write, "cached MMIO SPTE");
        }
    }

    /**
     * fast_page_fault(): without mmu_lock, restore W on an SPTE that was only write-protected for dirty logging
     * (MMU-writable), or notice another vCPU already fixed the fault. Null means "take the slow path".
     */
    private PfResult fastPageFault(long gfn, boolean write) {
        if (!write) {
            return null;
        }
        KvmMmuPage root = vcpu.root();
        kvm.rcu().readLock();
        try {
            kvm.sched().charge(Cost.FAST_FAULT);
            // kvm_tdp_mmu_fast_pf_get_last_sptep(), under RCU: no table on the path can be freed meanwhile.
            EptWalk last = fastWalk.walk(root, gfn);
            long spte = last.spte();
            int level = last.level();
            if (!Spte.isPresent(spte)) {
                return null;
            }
            if (Spte.isWritable(spte)) {
                return PfResult.SPURIOUS;
            }
            if (!Spte.isMmuWritable(spte)) {
                return null;
            }
            Memslot slot = kvm.memslots().lookup(vcpu.asId(), gfn);
            if (slot == null || (level > Spte.PG_LEVEL_4K && slot.dirtyLogging())) {
                return null;
            }
            // fast_pf_fix_direct_spte(): only a cmpxchg that took fixes the fault (and logs the page).
            if (!kvm.tdpMmu().fastFixWritable(last.table(), last.index(), spte)) {
                return null;
            }
            if (slot.dirtyLogging()) {
                kvm.markPageDirtyInSlot(slot, gfn);
            }
            return PfResult.FIXED;
        } finally {
            kvm.rcu().readUnlock();
        }
    }

    private PfResult slowPath(long gfn, boolean write, boolean exec) {
        KvmPageFault f = fault.reset(gfn, write, exec, Spte.PG_LEVEL_1G);
        f.nxHugePageWorkaroundEnabled = kvm.config().nxHugePages();
        // mmu_invalidate_seq is read at this fault's virtual time, not at the vCPU's last scheduling point: the
        // exit and the fault's fixed cost were charged since, and an invalidation another thread ended in
        // between must count as before the snapshot, or every fault overlapping a stream of invalidations
        // retries until the stream stops.
        kvm.sched().yieldPoint();
        f.mmuSeq = kvm.invalidate().seq();
        // Under SRCU the lookup and the generation go together: a swap after this point makes the MMIO SPTE
        // this fault may create stale, and the next access takes a real fault instead of trusting it.
        f.memslotsGeneration = kvm.memslots().generation(vcpu.asId());
        Memslot slot = kvm.memslots().lookup(vcpu.asId(), gfn);
        if (slot == null) {
            if (!kvm.config().mmioCaching() || gfn > kvm.config().maxGfn()) {
                return PfResult.EMULATE;
            }
        } else {
            if (kvm.memslots().isInvalid(slot)) {
                return retry(RetryCause.SLOT_INVALID);
            }
            if (kvm.invalidate().inProgress() > 0 && kvm.invalidate().retryGfn(f.mmuSeq, gfn)) {
                return retry(RetryCause.INVALIDATION_UNSAFE);
            }
            if (write && slot.readOnly()) {
                return PfResult.EMULATE;
            }
            FaultResult host;
            try {
                host = kvm.mm().faultIn(slot.gfnToHva(gfn), write);
            } catch (SimKvmException e) {
                if (e.errno() != KvmErrno.EFAULT) {
                    throw e;
                }
                // __kvm_faultin_pfn() got KVM_PFN_ERR_FAULT (e.g. a write to a read-only VMA):
                // kvm_handle_error_pfn() prepares a memory-fault exit and KVM_RUN returns -EFAULT.
                throw new SimKvmException("KVM_RUN", KvmErrno.EFAULT, "gfn 0x" + Long.toHexString(gfn) + ": " + e.getMessage());
            }
            f.slot = slot;
            f.pfn = host.pfn();
            f.mapWritable = host.writable() && !slot.readOnly();
            f.hostLevel = host.mappingLevel();
        }
        boolean shared = kvm.policy().has(Behaviour.FAULTS_UNDER_READ_LOCK);
        if (shared) {
            kvm.mmuLock().readLock();
        } else {
            kvm.mmuLock().writeLock();
        }
        try {
            // is_page_fault_stale().
            KvmMmuPage root = vcpu.root();
            if (root.isInvalid() && kvm.policy().has(Behaviour.RETRY_FAULT_ON_INVALID_ROOT)) {
                return retry(RetryCause.ROOT_INVALID);
            }
            if (f.slot != null && kvm.invalidate().retryGfn(f.mmuSeq, gfn)) {
                return retry(RetryCause.INVALIDATION);
            }
            kvm.sched().charge(Cost.FAULT_MAP);
            if (!shared) {
                kvm.sched().charge(Cost.RMAP_ADD);
            }
            PfResult r = tdpFault.map(root, f, f.memslotsGeneration, shared);
            if (r == PfResult.EMULATE && f.slot == null) {
                vcpu.stats().pfMmioSpteCreated++;
            } else if (r == PfResult.RETRY) {
                retryCause = RetryCause.MAP;
            }
            return r;
        } finally {
            if (shared) {
                kvm.mmuLock().readUnlock();
            } else {
                kvm.mmuLock().writeUnlock();
            }
        }
    }
}
