// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import dev.kvmharness.mmu.fault.NxRecovery;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.Memslots;
import dev.kvmharness.mmu.notifier.KvmMmuNotifier;
import dev.kvmharness.mmu.oracle.StaleTranslationOracle;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.Rcu;
import dev.kvmharness.mmu.sched.SimRwLock;
import dev.kvmharness.mmu.sched.Srcu;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.tdp.TdpMmu;
import dev.kvmharness.mmu.tdp.TdpZap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * struct kvm for an x86 VM on the TDP MMU: the memslots, mmu_lock, the TDP MMU, the MMU-notifier invalidation
 * state, the vCPUs and the VM stats, plus the common-code helpers the MMU calls (kvm_flush_remote_tlbs,
 * kvm_make_all_cpus_request, mark_page_dirty_in_slot). Everything runs on threads of one {@link SimScheduler}.
 */
public final class SimKvm implements AutoCloseable {
    private final SimScheduler sched;
    private final SimConfig config;
    private final HostMm mm;
    private final PhysMem phys;
    private final SimRwLock mmuLock;
    private final SimRwLock slotsLock;
    private final Srcu srcu;
    private final VmStats stats = new VmStats();
    private final TdpMmu tdpMmu;
    private final Memslots memslots;
    private final MmuInvalidate invalidate = new MmuInvalidate();
    private final List<SimVcpu> vcpus = new ArrayList<>();
    private final StaleTranslationOracle oracle;
    private final KvmMmuNotifier notifier;
    private final NxRecovery nxRecovery;
    private boolean manualDirtyLogProtect;
    private boolean dirtyLogInitiallySet;
    private boolean destroyed;

    /** kvm_create_vm(): registers the MMU notifier with the host mm. */
    public SimKvm(SimScheduler sched, HostMm mm, SimConfig config) {
        this.sched = sched;
        this.config = config;
        this.mm = mm;
        this.phys = mm.phys();
        this.mmuLock = sched.newRwLock("mmu_lock");
        this.slotsLock = sched.newRwLock("slots_lock");
        this.srcu = sched.newSrcu("kvm->srcu");
        this.tdpMmu = new TdpMmu(this);
        this.memslots = new Memslots(this);
        this.oracle = new StaleTranslationOracle(this);
        this.notifier = new KvmMmuNotifier(this);
        this.nxRecovery = new NxRecovery(this);
        mm.register(notifier);
    }

    public SimScheduler sched() {
        return sched;
    }

    public Rcu rcu() {
        return sched.rcu();
    }

    /** kvm->srcu: vCPUs read the memslots under it; memslot updates wait for them. */
    public Srcu srcu() {
        return srcu;
    }

    public SimConfig config() {
        return config;
    }

    public Policy policy() {
        return config.policy();
    }

    public HostMm mm() {
        return mm;
    }

    public PhysMem phys() {
        return phys;
    }

    public SimRwLock mmuLock() {
        return mmuLock;
    }

    public SimRwLock slotsLock() {
        return slotsLock;
    }

    public VmStats stats() {
        return stats;
    }

    public TdpMmu tdpMmu() {
        return tdpMmu;
    }

    public Memslots memslots() {
        return memslots;
    }

    public MmuInvalidate invalidate() {
        return invalidate;
    }

    public StaleTranslationOracle oracle() {
        return oracle;
    }

    public KvmMmuNotifier notifier() {
        return notifier;
    }

    public NxRecovery nxRecovery() {
        return nxRecovery;
    }

    public List<SimVcpu> vcpus() {
        return Collections.unmodifiableList(vcpus);
    }

    /** KVM_CREATE_VCPU. */
    public SimVcpu createVcpu() {
        if (vcpus.size() >= config.nrVcpusMax()) {
            throw new dev.kvmharness.mmu.SimKvmException("KVM_CREATE_VCPU", dev.kvmharness.mmu.KvmErrno.EINVAL,
                    "already " + vcpus.size() + " vCPUs, KVM_CAP_MAX_VCPUS is " + config.nrVcpusMax());
        }
        sched.charge(Cost.IOCTL);
        SimVcpu v = new SimVcpu(this, vcpus.size());
        vcpus.add(v);
        return v;
    }

    /** KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2). */
    public void enableManualDirtyLogProtect(boolean initiallySet) {
        manualDirtyLogProtect = true;
        dirtyLogInitiallySet = initiallySet;
    }

    public boolean manualDirtyLogProtect() {
        return manualDirtyLogProtect;
    }

    public boolean dirtyLogInitiallySet() {
        return dirtyLogInitiallySet;
    }

    // ---------------------------------------------------------------- TLB flushing and requests

    /**
     * kvm_flush_remote_tlbs(): always a request (remote_tlb_flush_requests); a flush (remote_tlb_flush) only if
     * some vCPU had to be kicked out of guest mode. Without Hyper-V there is no ranged flush, so the ranged
     * variants come here too.
     */
    public void flushRemoteTlbs(FlushSite site) {
        if (!policy().flushes(site)) {
            oracle.flushDropped(site);
            return;
        }
        stats.remoteTlbFlushRequests++;
        if (makeAllCpusRequest(KvmRequest.TLB_FLUSH)) {
            stats.remoteTlbFlush++;
        }
        oracle.flushIssued(site);
    }

    /** kvm_flush_remote_tlbs_range() / _gfn() / _memslot(): a full flush on hardware without ranged flushes. */
    public void flushRemoteTlbsRange(FlushSite site) {
        flushRemoteTlbs(site);
    }

    /**
     * kvm_make_all_cpus_request() with KVM_REQUEST_WAIT | NO_WAKEUP: sets the request on every vCPU and kicks
     * those in guest mode (an IPI the caller waits for). vCPUs that never ran and the calling vCPU itself need
     * no IPI.
     *
     * @return whether any IPI was sent
     */
    public boolean makeAllCpusRequest(KvmRequest req) {
        sched.charge(Cost.REQUEST);
        SimVcpu self = SimVcpu.currentOf(this);
        boolean ipi = false;
        for (SimVcpu v : vcpus) {
            v.setRequest(req);
            if (v == self || !v.everLoaded()) {
                continue;
            }
            if (v.kickIfInGuest()) {
                ipi = true;
            }
        }
        if (ipi) {
            sched.charge(Cost.IPI);
        }
        return ipi;
    }

    /** mark_page_dirty_in_slot(). */
    public void markPageDirtyInSlot(Memslot slot, long gfn) {
        memslots.markDirty(slot, gfn);
    }

    /**
     * kvm_mmu_zap_all_fast(): invalidate every root under the write lock, ask vCPUs to drop obsolete roots,
     * then zap the invalidated roots under the read lock (or on a worker, as 5.18-6.5 did). No remote flush:
     * vCPUs flush locally when they load their new root.
     */
    public void zapAllFast() {
        mmuLock.writeLock();
        tdpMmu.invalidateAllRoots();
        makeAllCpusRequest(KvmRequest.MMU_FREE_OBSOLETE_ROOTS);
        mmuLock.writeUnlock();
        if (policy().has(dev.kvmharness.mmu.policy.Behaviour.ASYNC_ZAP_INVALIDATED_ROOTS)) {
            sched.charge(Cost.THREAD_START);
            var worker = sched.spawn("kvm-tdp-mmu-zap", this::zapInvalidatedRootsLocked);
            sched.join(worker);
        } else {
            zapInvalidatedRootsLocked();
        }
    }

    private void zapInvalidatedRootsLocked() {
        mmuLock.readLock();
        tdpMmu.zapInvalidatedRoots();
        mmuLock.readUnlock();
    }

    /**
     * kvm_zap_gfn_range(): zap the leafs of [start, end) in every root, wrapped in an invalidation so racing
     * faults retry, and flush once.
     */
    public void zapGfnRange(long start, long end) {
        mmuLock.writeLock();
        invalidate.begin();
        invalidate.rangeAdd(start, end);
        boolean flush = new TdpZap(tdpMmu).zapLeafs(start, end, true, false);
        if (flush) {
            flushRemoteTlbsRange(FlushSite.ZAP_GFN_RANGE);
        }
        invalidate.end();
        mmuLock.writeUnlock();
        oracle.checkpoint("kvm_zap_gfn_range");
    }

    public boolean isDestroyed() {
        return destroyed;
    }

    /**
     * kvm_destroy_vm(): unregister the notifier, zap everything (kvm_mmu_uninit_tdp_mmu after
     * kvm_arch_destroy_vm), drop the vCPUs' roots, and let RCU free what is left.
     */
    @Override
    public void close() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        mm.unregister(notifier);
        mmuLock.writeLock();
        for (SimVcpu v : vcpus) {
            v.unloadRoot();
        }
        tdpMmu.invalidateAllRoots();
        new TdpZap(tdpMmu).zapAll();
        mmuLock.writeUnlock();
        mmuLock.readLock();
        tdpMmu.zapInvalidatedRoots();
        mmuLock.readUnlock();
        rcu().barrier();
    }
}
