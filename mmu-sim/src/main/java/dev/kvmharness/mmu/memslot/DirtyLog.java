// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.TdpDirtyLog;

/**
 * KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG (kvm_get_dirty_log_protect, kvm_clear_dirty_log_protect): hand the
 * bitmap to userspace and re-protect the harvested pages so the next write is logged again, with one memslot
 * flush when any bit was harvested.
 */
public final class DirtyLog {
    /** KVM_USER_MEM_SLOTS on x86. */
    private static final int KVM_USER_MEM_SLOTS = 32764;
    private final SimKvm kvm;

    public DirtyLog(SimKvm kvm) {
        this.kvm = kvm;
    }

    private Memslot slotWithBitmap(String ioctl, int userSlot) {
        int asId = userSlot >>> 16;
        int id = userSlot & 0xffff;
        if (asId >= Memslots.ADDRESS_SPACES || id >= KVM_USER_MEM_SLOTS) {
            throw new SimKvmException(ioctl, KvmErrno.EINVAL, "slot " + userSlot + " out of range");
        }
        Memslot slot = kvm.memslots().byId(asId, id);
        if (slot == null || kvm.memslots().dirtyBitmap(slot) == null) {
            throw new SimKvmException(ioctl, KvmErrno.ENOENT, "slot " + userSlot + " has no dirty bitmap");
        }
        return slot;
    }

    /** KVM_GET_DIRTY_LOG: a copy of the bitmap; without manual protect, the harvested pages are re-protected. */
    public long[] get(int userSlot) {
        kvm.sched().charge(Cost.IOCTL);
        kvm.slotsLock().writeLock();
        try {
            Memslot slot = slotWithBitmap("KVM_GET_DIRTY_LOG", userSlot);
            long[] bm = kvm.memslots().dirtyBitmap(slot);
            long[] snapshot = bm.clone();
            if (kvm.manualDirtyLogProtect()) {
                return snapshot;
            }
            boolean flush = false;
            kvm.mmuLock().writeLock();
            for (int i = 0; i < bm.length; i++) {
                if (bm[i] == 0) {
                    continue;
                }
                flush = true;
                long mask = bm[i];
                bm[i] = 0;
                TdpDirtyLog.clearDirtyPtMasked(kvm.tdpMmu(), slot, i * 64L, mask);
            }
            kvm.mmuLock().writeUnlock();
            if (flush) {
                kvm.flushRemoteTlbsRange(FlushSite.GET_DIRTY_LOG);
            }
            kvm.observer().checkpoint("KVM_GET_DIRTY_LOG");
            return snapshot;
        } finally {
            kvm.slotsLock().writeUnlock();
        }
    }

    /**
     * KVM_CLEAR_DIRTY_LOG: clears the given bits and re-protects those pages; with initially-set bitmaps it
     * also splits and write-protects the huge pages at the range's ends.
     */
    public void clear(int userSlot, long firstPage, long numPages, long[] bitmap) {
        kvm.sched().charge(Cost.IOCTL);
        kvm.slotsLock().writeLock();
        try {
            String ioctl = "KVM_CLEAR_DIRTY_LOG";
            // kvm_vm_ioctl_clear_dirty_log() checks the alignment before it looks the slot up.
            if ((firstPage & 63) != 0) {
                throw new SimKvmException(ioctl, KvmErrno.EINVAL, "first_page not 64-aligned");
            }
            Memslot slot = slotWithBitmap(ioctl, userSlot);
            if (firstPage > slot.npages() || numPages > slot.npages() - firstPage) {
                throw new SimKvmException(ioctl, KvmErrno.EINVAL, "range outside the slot");
            }
            if ((numPages & 63) != 0 && firstPage + numPages != slot.npages()) {
                throw new SimKvmException(ioctl, KvmErrno.EINVAL, "num_pages not a multiple of 64 and not reaching the slot's end");
            }
            long[] bm = kvm.memslots().dirtyBitmap(slot);
            boolean flush = false;
            kvm.mmuLock().writeLock();
            for (long off = 0; off < numPages; off += 64) {
                int w = (int) ((firstPage + off) >>> 6);
                long mask = bitmap[(int) (off >>> 6)];
                if (numPages - off < 64) {
                    mask &= (1L << (numPages - off)) - 1;
                }
                mask &= bm[w];
                if (mask == 0) {
                    continue;
                }
                bm[w] &= ~mask;
                flush = true;
                long gfnOffset = firstPage + off;
                if (kvm.dirtyLogInitiallySet()) {
                    long first = slot.baseGfn() + gfnOffset + Long.numberOfTrailingZeros(mask);
                    long last = slot.baseGfn() + gfnOffset + 63 - Long.numberOfLeadingZeros(mask);
                    // kvm.eager_page_split, and a kernel that has eager splitting at all (5.17's series split here too).
                    if (kvm.config().eagerPageSplit() && kvm.policy().has(Behaviour.EAGER_PAGE_SPLIT)) {
                        TdpDirtyLog.trySplitHugePages(kvm.tdpMmu(), slot, first, last + 1, Spte.PG_LEVEL_4K, false);
                    }
                    TdpDirtyLog.writeProtectGfn(kvm.tdpMmu(), slot, first, Spte.PG_LEVEL_2M);
                    if (Spte.alignDown(first, Spte.PG_LEVEL_2M) != Spte.alignDown(last, Spte.PG_LEVEL_2M)) {
                        TdpDirtyLog.writeProtectGfn(kvm.tdpMmu(), slot, last, Spte.PG_LEVEL_2M);
                    }
                }
                TdpDirtyLog.clearDirtyPtMasked(kvm.tdpMmu(), slot, gfnOffset, mask);
            }
            kvm.mmuLock().writeUnlock();
            if (flush) {
                kvm.flushRemoteTlbsRange(FlushSite.CLEAR_DIRTY_LOG);
            }
            kvm.observer().checkpoint("KVM_CLEAR_DIRTY_LOG");
        } finally {
            kvm.slotsLock().writeUnlock();
        }
    }
}
