// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import dev.kvmharness.mmu.fault.NxRecovery;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.Memslots;
import dev.kvmharness.mmu.notifier.KvmMmuNotifier;
import dev.kvmharness.mmu.observe.MmuObserver;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.Rcu;
import dev.kvmharness.mmu.sched.SimRwLock;
import dev.kvmharness.mmu.sched.Srcu;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.tdp.TdpKvm;
import dev.kvmharness.mmu.tdp.TdpMmu;
import dev.kvmharness.mmu.tdp.TdpZap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.policy.Behaviour;

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
    /** Who checks this VM (the stale-translation oracle, outside the model); nobody until one attaches. */
    private MmuObserver observer = MmuObserver.NONE;
    private final KvmMmuNotifier notifier;
    private final NxRecovery nxRecovery;
    private final int type;
    private long disabledQuirks;
    private long nrMmuPages;
    /** kvm->manual_dirty_log_protect: the KVM_DIRTY_LOG_* bits KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 was enabled with. */
    private long manualDirtyLogProtect;
    private boolean destroyed;

    /** KVM_X86_DEFAULT_VM. */
    public static final int KVM_X86_DEFAULT_VM = 0;
    /** KVM_X86_SW_PROTECTED_VM: private memory through guest_memfd, without hardware protection. */
    public static final int KVM_X86_SW_PROTECTED_VM = 1;
    /** KVM_X86_QUIRK_SLOT_ZAP_ALL: a memslot delete or move zaps every root (kvm_mmu_zap_all_fast()). */
    public static final long KVM_X86_QUIRK_SLOT_ZAP_ALL = 1L << 7;
    /** KVM_X86_VALID_QUIRKS in 6.12: quirks 0 (LINT0_REENABLED) to 7 (SLOT_ZAP_ALL). */
    public static final long KVM_X86_VALID_QUIRKS = 0xff;
    /** KVM_MIN_ALLOC_MMU_PAGES. */
    public static final long KVM_MIN_ALLOC_MMU_PAGES = 64;

    /** kvm_create_vm() for a KVM_X86_DEFAULT_VM. */
    public SimKvm(SimScheduler sched, HostMm mm, SimConfig config) {
        this(sched, mm, config, KVM_X86_DEFAULT_VM);
    }

    /**
     * kvm_create_vm() with a VM type, which kvm_arch_init_vm() checks (kvm_is_vm_type_supported(): the
     * simulator offers KVM_X86_DEFAULT_VM and KVM_X86_SW_PROTECTED_VM, anything else is EINVAL); registers the
     * MMU notifier with the host mm.
     */
    public SimKvm(SimScheduler sched, HostMm mm, SimConfig config, int type) {
        if (type != KVM_X86_DEFAULT_VM && type != KVM_X86_SW_PROTECTED_VM) {
            throw new SimKvmException("KVM_CREATE_VM", KvmErrno.EINVAL,
                    "VM type " + type + " not supported (KVM_CAP_VM_TYPES is 0x3)");
        }
        this.type = type;
        this.sched = sched;
        this.config = config;
        this.mm = mm;
        this.phys = mm.phys();
        this.mmuLock = sched.newRwLock("mmu_lock");
        this.slotsLock = sched.newRwLock("slots_lock");
        this.srcu = sched.newSrcu("kvm->srcu");
        this.tdpMmu = new TdpMmu(new TdpSide());
        this.memslots = new Memslots(this);
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

    /** The observer the model reports to ({@link MmuObserver#NONE} until {@link #setObserver}). */
    public MmuObserver observer() {
        return observer;
    }

    /** Attaches the VM's one observer; a second one is a harness bug. */
    public void setObserver(MmuObserver o) {
        if (o == null) {
            throw new IllegalArgumentException("observer is null (MmuObserver.NONE observes nothing)");
        }
        if (observer != MmuObserver.NONE) {
            throw new IllegalStateException("VM already has observer " + observer);
        }
        observer = o;
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
            throw new SimKvmException("KVM_CREATE_VCPU", KvmErrno.EINVAL,
                    "already " + vcpus.size() + " vCPUs, KVM_CAP_MAX_VCPUS is " + config.nrVcpusMax());
        }
        sched.charge(Cost.IOCTL);
        SimVcpu v = new SimVcpu(this, vcpus.size());
        vcpus.add(v);
        return v;
    }

    /** The VM type KVM_CREATE_VM was given. */
    public int type() {
        return type;
    }

    /**
     * KVM_ENABLE_CAP(KVM_CAP_DISABLE_QUIRKS2) in kvm_vm_ioctl_enable_cap(): bits outside KVM_X86_VALID_QUIRKS
     * are EINVAL; the others are added to kvm->arch.disabled_quirks for good.
     */
    public void disableQuirks2(long quirks) {
        sched.charge(Cost.IOCTL);
        if ((quirks & ~KVM_X86_VALID_QUIRKS) != 0) {
            throw new SimKvmException("KVM_ENABLE_CAP", KvmErrno.EINVAL,
                    String.format("quirks 0x%x outside KVM_X86_VALID_QUIRKS 0x%x", quirks, KVM_X86_VALID_QUIRKS));
        }
        disabledQuirks |= quirks;
    }

    /**
     * kvm_memslot_flush_zap_all(): whether deleting or moving a memslot zaps every root. The quirk is on unless
     * the config turned it off or userspace disabled it through KVM_CAP_DISABLE_QUIRKS2.
     */
    public boolean slotZapAllQuirk() {
        return config.slotZapAllQuirk() && (disabledQuirks & KVM_X86_QUIRK_SLOT_ZAP_ALL) == 0;
    }

    /**
     * KVM_SET_NR_MMU_PAGES (kvm_vm_ioctl_set_nr_mmu_pages()): fewer than KVM_MIN_ALLOC_MMU_PAGES is EINVAL;
     * otherwise the shadow MMU's page limit, which the TDP MMU does not use.
     */
    public void setNrMmuPages(long pages) {
        sched.charge(Cost.IOCTL);
        if (pages < KVM_MIN_ALLOC_MMU_PAGES) {
            throw new SimKvmException("KVM_SET_NR_MMU_PAGES", KvmErrno.EINVAL,
                    pages + " < KVM_MIN_ALLOC_MMU_PAGES");
        }
        nrMmuPages = pages;
    }

    /** kvm->arch.n_max_mmu_pages as KVM_SET_NR_MMU_PAGES left it (0: never set). */
    public long nrMmuPages() {
        return nrMmuPages;
    }

    /** KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE: KVM_GET_DIRTY_LOG leaves the log and the SPTEs alone. */
    public static final long KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1;
    /** KVM_DIRTY_LOG_INITIALLY_SET: a slot starts logging with every bit set and nothing write-protected. */
    public static final long KVM_DIRTY_LOG_INITIALLY_SET = 2;
    /** KVM_DIRTY_LOG_MANUAL_CAPS: what KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) answers on x86. */
    public static final long KVM_DIRTY_LOG_MANUAL_CAPS = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;

    /**
     * Manual protect on, with INITIALLY_SET if asked, for the model's own tests: the state
     * {@link #enableManualDirtyLogProtect2} leaves, without charging the ioctl.
     */
    public void enableManualDirtyLogProtect(boolean initiallySet) {
        manualDirtyLogProtect = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | (initiallySet ? KVM_DIRTY_LOG_INITIALLY_SET : 0);
    }

    /**
     * KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) as kvm_vm_ioctl_enable_cap_generic() takes it: args[0] is
     * the new kvm->manual_dirty_log_protect, 0 switching manual protect off again; INITIALLY_SET is accepted only
     * together with MANUAL_PROTECT_ENABLE, and any other bit is EINVAL.
     */
    public void enableManualDirtyLogProtect2(long caps) {
        sched.charge(Cost.IOCTL);
        long allowed = (caps & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0 ? KVM_DIRTY_LOG_MANUAL_CAPS
                : KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
        if ((caps & ~allowed) != 0) {
            throw new SimKvmException("KVM_ENABLE_CAP", KvmErrno.EINVAL,
                    String.format("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 0x%x: bits outside 0x%x", caps, allowed));
        }
        manualDirtyLogProtect = caps;
    }

    /** kvm->manual_dirty_log_protect != 0. */
    public boolean manualDirtyLogProtect() {
        return manualDirtyLogProtect != 0;
    }

    /** kvm_dirty_log_manual_protect_and_init_set(). */
    public boolean dirtyLogInitiallySet() {
        return (manualDirtyLogProtect & KVM_DIRTY_LOG_INITIALLY_SET) != 0;
    }

    // ---------------------------------------------------------------- TLB flushing and requests

    /**
     * kvm_flush_remote_tlbs(): always a request (remote_tlb_flush_requests); a flush (remote_tlb_flush) only if
     * some vCPU had to be kicked out of guest mode. Without Hyper-V there is no ranged flush, so the ranged
     * variants come here too.
     */
    public void flushRemoteTlbs(FlushSite site) {
        if (!policy().flushes(site)) {
            observer.flushDropped(site);
            return;
        }
        stats.remoteTlbFlushRequests++;
        if (makeAllCpusRequest(KvmRequest.TLB_FLUSH)) {
            stats.remoteTlbFlush++;
        }
        observer.flushIssued(site);
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
        if (policy().has(Behaviour.ASYNC_ZAP_INVALIDATED_ROOTS)) {
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
        boolean flush = TdpZap.zapLeafs(tdpMmu, start, end, true, false);
        if (flush) {
            flushRemoteTlbsRange(FlushSite.ZAP_GFN_RANGE);
        }
        invalidate.end();
        mmuLock.writeUnlock();
        observer.checkpoint("kvm_zap_gfn_range");
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
        TdpZap.zapAll(tdpMmu);
        mmuLock.writeUnlock();
        mmuLock.readLock();
        tdpMmu.zapInvalidatedRoots();
        mmuLock.readUnlock();
        rcu().barrier();
    }

    /** What the TDP MMU may use of this VM ({@link TdpKvm}); kept apart so SimKvm's own API stays the ioctls'. */
    private final class TdpSide implements TdpKvm {
        @Override
        public SimScheduler sched() {
            return sched;
        }

        @Override
        public Rcu rcu() {
            return sched.rcu();
        }

        @Override
        public SimRwLock mmuLock() {
            return mmuLock;
        }

        @Override
        public Policy policy() {
            return config.policy();
        }

        @Override
        public PhysMem phys() {
            return phys;
        }

        @Override
        public MmuObserver observer() {
            return observer;
        }

        @Override
        public int rootLevel() {
            return config.rootLevel();
        }

        @Override
        public long maxGfn() {
            return config.maxGfn();
        }

        @Override
        public int yieldEvery() {
            return config.yieldEvery();
        }

        @Override
        public boolean debugChecks() {
            return config.oracle();
        }

        @Override
        public void accountPages(int level, long delta) {
            stats.pages[level] += delta;
        }

        @Override
        public void accountNxLpageSplits(long delta) {
            stats.nxLpageSplits += delta;
        }

        @Override
        public void flushRemoteTlbs(FlushSite site) {
            SimKvm.this.flushRemoteTlbs(site);
        }

        @Override
        public void flushRemoteTlbsRange(FlushSite site) {
            SimKvm.this.flushRemoteTlbsRange(site);
        }

        @Override
        public void markPageDirtyInSlot(Memslot slot, long gfn) {
            SimKvm.this.markPageDirtyInSlot(slot, gfn);
        }

        @Override
        public boolean lpageAllowed(Memslot slot, long gfn, int level) {
            return memslots.lpageAllowed(slot, gfn, level);
        }

        @Override
        public boolean nxHugePages() {
            return config.nxHugePages();
        }
    }
}
