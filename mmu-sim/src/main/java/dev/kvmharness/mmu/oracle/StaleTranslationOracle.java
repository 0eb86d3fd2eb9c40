// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.oracle;

import dev.kvmharness.mmu.kvm.KvmRequest;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.KvmMmuPage;
import dev.kvmharness.mmu.tlb.Tlb;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Catches the bug class TLB flushes exist to prevent: a vCPU using a translation KVM has taken away. Two checks:
 * <ul>
 *   <li>on every guest access through the TLB, the host page behind it must still be live (not freed by munmap,
 *       MADV_DONTNEED or reclaim): using a freed page is guest access to someone else's memory;</li>
 *   <li>at each checkpoint, when an operation that promises "no vCPU can use the old translation any more"
 *       returns to its caller (invalidate_range_start, a memslot update, the dirty-log ioctls, NX recovery,
 *       kvm_zap_gfn_range), every cached translation of every vCPU must be backed by its root's SPTEs: present,
 *       same pfn, and writable if the cached entry allows writes. A vCPU with a TLB flush or root reload still
 *       pending is exempt: it cannot enter the guest without doing it.</li>
 * </ul>
 * Under a correct policy it reports nothing; a policy that drops a needed flush makes it report.
 */
public final class StaleTranslationOracle {
    private static final int HISTORY = 48;
    private final SimKvm kvm;
    private final ArrayDeque<String> history = new ArrayDeque<>();
    private final List<Violation> violations = new ArrayList<>();

    public StaleTranslationOracle(SimKvm kvm) {
        this.kvm = kvm;
    }

    /** Records an operation for the history a violation reports. */
    public void note(String op) {
        if (history.size() == HISTORY) {
            history.removeFirst();
        }
        history.addLast(kvm.sched().now() + "ns " + op);
    }

    public void flushIssued(FlushSite site) {
        note("flush " + site);
    }

    public void flushDropped(FlushSite site) {
        note("flush " + site + " DROPPED (test switch)");
    }

    public List<Violation> violations() {
        return List.copyOf(violations);
    }

    private void report(String what, int vcpu, long gfn) {
        violations.add(new Violation(what, vcpu, gfn, kvm.sched().now(), List.copyOf(history)));
    }

    /** A guest access hit the TLB: the page must still exist. */
    public void checkTlbUse(SimVcpu vcpu, long gfn, long pfn, boolean write) {
        if (!kvm.phys().isLive(pfn)) {
            report(String.format("guest %s through a cached translation to pfn 0x%x, a freed host page",
                    write ? "write" : "read", pfn), vcpu.id(), gfn);
        }
    }

    /** The hardware walk found a present SPTE: the page it maps must still exist (a zap nobody did). */
    public void checkSpteUse(SimVcpu vcpu, long gfn, long pfn) {
        if (!kvm.phys().isLive(pfn)) {
            report(String.format("an SPTE still maps gfn 0x%x to pfn 0x%x, a freed host page", gfn, pfn), vcpu.id(), gfn);
        }
    }

    /**
     * Oracle (b): when invalidate_range_start returns, no root, valid or not, in any address space maps the
     * invalidated gfns any more.
     */
    public void checkUnmapped(String where, int asId, long gfnStart, long gfnEnd) {
        if (!kvm.config().oracle()) {
            return;
        }
        for (KvmMmuPage root : kvm.tdpMmu().roots()) {
            if (root.asId() != asId || root.isFreed()) {
                continue;
            }
            long gfn = kvm.tdpMmu().firstPresentLeaf(root, gfnStart, gfnEnd);
            if (gfn >= 0) {
                report(String.format("after %s %s still maps gfn 0x%x in [0x%x, 0x%x)", where, root, gfn, gfnStart, gfnEnd), -1, gfn);
                return;
            }
        }
    }

    /** The EPT walk reached a page table that RCU already freed. */
    public void useAfterFree(SimVcpu vcpu, long gfn) {
        report("hardware EPT walk reached a freed page table", vcpu.id(), gfn);
    }

    /** Every cached translation must be backed by the SPTEs now, unless a flush or root reload is pending. */
    public void checkpoint(String where) {
        if (!kvm.config().oracle()) {
            return;
        }
        note("checkpoint " + where);
        for (SimVcpu v : kvm.vcpus()) {
            KvmMmuPage root = v.root();
            if (root == null || v.hasRequest(KvmRequest.TLB_FLUSH)
                    || (root.isInvalid() && v.hasRequest(KvmRequest.MMU_FREE_OBSOLETE_ROOTS))) {
                continue;
            }
            Tlb tlb = v.tlb();
            for (int s = 0; s < tlb.capacity(); s++) {
                if (!tlb.isValid(s)) {
                    continue;
                }
                checkEntry(where, v, root, tlb.gfn(s), tlb.pfn(s), tlb.writable(s));
            }
        }
    }

    private void checkEntry(String where, SimVcpu v, KvmMmuPage root, long gfn, long pfn, boolean writable) {
        long[] leaf = kvm.tdpMmu().walk(root, gfn);
        long spte = leaf[0];
        int level = (int) leaf[1];
        if (!Spte.isPresent(spte)) {
            report(String.format("after %s the TLB still maps gfn 0x%x to pfn 0x%x but the SPTE is gone", where, gfn, pfn),
                    v.id(), gfn);
            return;
        }
        long expected = Spte.pfn(spte) + (gfn & (Spte.pagesPerEntry(level) - 1));
        if (expected != pfn) {
            report(String.format("after %s the TLB maps gfn 0x%x to pfn 0x%x but the SPTE maps pfn 0x%x", where, gfn, pfn, expected),
                    v.id(), gfn);
        } else if (writable && !Spte.isWritable(spte)) {
            report(String.format("after %s the TLB allows writes to gfn 0x%x but the SPTE is write-protected", where, gfn),
                    v.id(), gfn);
        }
    }

    /**
     * While a slot is dirty-logged, every writable 4K SPTE in it must have its dirty bit set: a write through it
     * would otherwise never be reported to userspace.
     */
    public String checkDirtyLogCoverage() {
        for (int as = 0; as < dev.kvmharness.mmu.memslot.Memslots.ADDRESS_SPACES; as++) {
            for (dev.kvmharness.mmu.memslot.Memslot slot : kvm.memslots().slots(as)) {
                long[] bm = kvm.memslots().dirtyBitmap(slot);
                if (bm == null) {
                    continue;
                }
                for (KvmMmuPage root : kvm.tdpMmu().roots()) {
                    if (root.asId() != as || root.isInvalid()) {
                        continue;
                    }
                    String miss = kvm.tdpMmu().writableWithoutDirtyBit(root, slot, bm);
                    if (miss != null) {
                        return miss;
                    }
                }
            }
        }
        return null;
    }

    /** Oracle (d): pages_4k/2m/1g equal the present leaf SPTEs per level in all roots. */
    public String checkPageStats() {
        long[] n = kvm.tdpMmu().countLeafs();
        long[] p = kvm.stats().pages;
        for (int level = 1; level <= 3; level++) {
            if (n[level] != p[level]) {
                return String.format("pages at level %d: stat %d, present leafs %d", level, p[level], n[level]);
            }
        }
        return null;
    }
}
