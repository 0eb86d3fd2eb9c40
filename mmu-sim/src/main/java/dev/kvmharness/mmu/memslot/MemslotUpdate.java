// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.TdpDirtyLog;
import dev.kvmharness.mmu.tdp.TdpZap;
import java.util.OptionalLong;
import java.util.function.IntFunction;
import java.util.function.LongUnaryOperator;

/**
 * kvm_set_memory_region() / kvm_set_memslot() (virt/kvm/kvm_main.c) with the x86 hooks: validate, then for a
 * delete or move first publish an invalid copy of the old slot and flush the MMU of it
 * (kvm_arch_flush_shadow_memslot: with the slot-zap-all quirk a fast zap of every root, else an unmap of just
 * the slot), then publish the final slots and commit the flag changes (dirty logging on or off).
 */
public final class MemslotUpdate {
    private final SimKvm kvm;
    private final MemslotLimits limits;
    private final IntFunction<OptionalLong> guestMemfdSize;

    /** Updates for a VM without guest_memfd files: a KVM_MEM_GUEST_MEMFD binding fails in kvm_gmem_bind(). */
    public MemslotUpdate(SimKvm kvm, MemslotLimits limits) {
        this(kvm, limits, fd -> OptionalLong.empty());
    }

    /**
     * @param guestMemfdSize the size of the guest_memfd file an fd names if it is one of this VM's, else empty
     *     (what kvm_gmem_bind() learns from fget() and the file's owner)
     */
    public MemslotUpdate(SimKvm kvm, MemslotLimits limits, IntFunction<OptionalLong> guestMemfdSize) {
        this.kvm = kvm;
        this.limits = limits;
        this.guestMemfdSize = guestMemfdSize;
    }

    public MemslotLimits limits() {
        return limits;
    }

    /** KVM_SET_USER_MEMORY_REGION[2]: the change made, or a SimKvmException with KVM's errno. */
    public MemslotChange set(MemslotRequest req) {
        kvm.sched().charge(Cost.IOCTL);
        kvm.slotsLock().writeLock();
        try {
            Memslots slots = kvm.memslots();
            MemslotChange change = MemslotRequestCheck.check(req, limits, slots.view(), guestMemfdSize);
            kvm.observer().note("set_memory_region " + change.kind() + " slot " + req.slot());
            switch (change.kind()) {
                case NONE -> {
                    return change;
                }
                case CREATE -> publish(change.updated().asId(), null, change.updated());
                case DELETE -> {
                    invalidate(change.old(), "KVM_MR_DELETE of slot " + req.slot());
                    publish(change.old().asId(), change.old(), null);
                }
                case MOVE -> {
                    invalidate(change.old(), "KVM_MR_MOVE of slot " + req.slot());
                    publish(change.old().asId(), change.old(), change.updated());
                }
                case FLAGS_ONLY -> {
                    publish(change.old().asId(), change.old(), change.updated());
                    applyFlags(change.old(), change.updated());
                }
            }
            kvm.observer().checkpoint("KVM_SET_USER_MEMORY_REGION " + change.kind());
            return change;
        } finally {
            kvm.slotsLock().writeUnlock();
        }
    }

    /** kvm_invalidate_memslot(): readers now see the slot as invalid (faults retry), then the MMU lets go of it. */
    private void invalidate(Memslot old, String what) {
        kvm.notifier().waitForNoActiveInvalidations();
        kvm.memslots().swap(old.asId(), old, old, true);
        memslotsUpdated(old.asId());
        flushShadowMemslot(old);
        kvm.observer().memslotFlushed(what, old.asId(), old.baseGfn(), old.baseGfn() + old.npages());
    }

    private void publish(int asId, Memslot remove, Memslot add) {
        kvm.notifier().waitForNoActiveInvalidations();
        kvm.memslots().moveDirtyBitmap(remove, add);
        kvm.memslots().swap(asId, remove, add, false);
        memslotsUpdated(asId);
        // a gpa may now read another page: whoever waits for a write to the old one must look again
        kvm.phys().wakeAllWatchers();
    }

    /**
     * kvm_arch_memslots_updated() → kvm_mmu_invalidate_mmio_sptes(): MMIO SPTEs carry 19 bits of generation;
     * when those wrap to zero an old MMIO SPTE could look current, so everything is zapped.
     */
    private void memslotsUpdated(int asId) {
        long gen = kvm.memslots().generation(asId) & Spte.MMIO_GEN_MASK & ~(long) (Memslots.ADDRESS_SPACES - 1);
        if (gen == 0) {
            kvm.zapAllFast();
        }
    }

    /** kvm_arch_flush_shadow_memslot(). */
    private void flushShadowMemslot(Memslot old) {
        if (kvm.slotZapAllQuirk()) {
            kvm.zapAllFast();
            return;
        }
        // kvm_mmu_zap_memslot(): only this slot's gfns, as a guarded invalidation.
        kvm.mmuLock().writeLock();
        kvm.invalidate().begin();
        kvm.invalidate().rangeAdd(old.baseGfn(), old.baseGfn() + old.npages());
        boolean flush = TdpZap.unmapGfnRange(kvm.tdpMmu(), old.asId(), old.baseGfn(), old.baseGfn() + old.npages(), true, false).flushOwed();
        kvm.invalidate().end();
        if (flush) {
            kvm.flushRemoteTlbsRange(FlushSite.MEMSLOT_ZAP);
        }
        kvm.mmuLock().writeUnlock();
    }

    private void underReadLock(Runnable r) {
        kvm.mmuLock().readLock();
        try {
            r.run();
        } finally {
            kvm.mmuLock().readUnlock();
        }
    }

    /** kvm_mmu_slot_apply_flags(): dirty logging switched on or off. */
    private void applyFlags(Memslot old, Memslot updated) {
        if (updated.readOnly()) {
            return;
        }
        if (!old.dirtyLogging() && updated.dirtyLogging()) {
            if (kvm.manualDirtyLogProtect() && kvm.dirtyLogInitiallySet()) {
                return;
            }
            if (kvm.config().eagerPageSplit() && kvm.policy().has(Behaviour.EAGER_PAGE_SPLIT)) {
                underReadLock(() -> TdpDirtyLog.trySplitHugePages(kvm.tdpMmu(), updated, updated.baseGfn(), updated.baseGfn() + updated.npages(),
                        Spte.PG_LEVEL_4K, true));
            }
            underReadLock(() -> TdpDirtyLog.wrprotSlot(kvm.tdpMmu(), updated, Spte.PG_LEVEL_4K));
            kvm.flushRemoteTlbsRange(FlushSite.DIRTY_LOG_ENABLE);
        } else if (old.dirtyLogging() && !updated.dirtyLogging()) {
            long before = kvm.stats().remoteTlbFlushRequests;
            LongUnaryOperator hostLevel = gfn -> kvm.mm().mappingLevel(updated.gfnToHva(gfn));
            if (kvm.policy().has(Behaviour.RECOVER_HUGE_PAGES_IN_PLACE)) {
                underReadLock(() -> TdpDirtyLog.recoverHugePages(kvm.tdpMmu(), updated, hostLevel));
                return;
            }
            underReadLock(() -> TdpDirtyLog.zapCollapsibleSptes(kvm.tdpMmu(), updated, hostLevel));
            // Legacy also flushed the whole slot at the end when anything was zapped.
            if (!kvm.policy().has(Behaviour.ZAP_COLLAPSIBLE_NO_FINAL_FLUSH) && kvm.stats().remoteTlbFlushRequests != before) {
                kvm.flushRemoteTlbsRange(FlushSite.COLLAPSE_FINAL);
            }
        }
    }
}
