// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.oracle;

import dev.kvmharness.mmu.MemoCheck;
import dev.kvmharness.mmu.kvm.KvmRequest;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.observe.MmuObserver;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import dev.kvmharness.mmu.tdp.KvmMmuPage;
import dev.kvmharness.mmu.tlb.Tlb;
import java.util.ArrayDeque;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.TreeMap;
import dev.kvmharness.mmu.memslot.Memslots;

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
 *
 * <p>It sits outside the model: the VM reports to it through {@link MmuObserver} once {@link #attachTo} has
 * registered it, and the model never reads what it found.
 */
public final class StaleTranslationOracle implements MmuObserver {
    private static final int HISTORY = 48;
    private final SimKvm kvm;
    private final ArrayDeque<String> history = new ArrayDeque<>();
    private final List<Violation> violations = new ArrayList<>();
    private final CheckedTranslations checked = new CheckedTranslations();
    /** slotOf()'s two last hits, newest first, and the memslot generation they were found in. */
    private Memslot lastSlot;
    private Memslot previousSlot;
    private long lastSlotGeneration = -1;
    /** [start, end) gfn ranges of address space 0 aging made old since the last remote flush, by start. */
    private final TreeMap<Long, Long> aged = new TreeMap<>();
    private long staleAccessedUses;
    /** Per thread, the gfn ranges whose translations it narrowed since the last remote flush. */
    private final Map<SimThread, List<OwedRange>> owed = new HashMap<>();

    /** [start, end) of gfns whose narrowed translations await a remote flush; grows while changes are adjacent. */
    private static final class OwedRange {
        final long start;
        long end;

        OwedRange(long start, long end) {
            this.start = start;
            this.end = end;
        }
    }

    private StaleTranslationOracle(SimKvm kvm) {
        this.kvm = kvm;
    }

    /** Makes an oracle the observer of {@code kvm} (which must have none yet) and returns it. */
    public static StaleTranslationOracle attachTo(SimKvm kvm) {
        StaleTranslationOracle o = new StaleTranslationOracle(kvm);
        kvm.setObserver(o);
        return o;
    }

    /** Records an operation for the history a violation reports. */
    @Override
    public void note(String op) {
        if (history.size() == HISTORY) {
            history.removeFirst();
        }
        history.addLast(kvm.sched().now() + "ns " + op);
    }

    @Override
    public void flushIssued(FlushSite site) {
        note("flush " + site);
        owed.clear();
        aged.clear();
    }

    /**
     * Aging's tolerated imprecision, kept apart from the violations: gfns whose Accessed bit aging cleared since
     * the last remote flush. A vCPU may go on using its cached translation of one (same page, still mapped), and
     * that access sets no Accessed bit: the page looks idle though it is in use. Kernels accept this (x86 stopped
     * flushing after aging in 6.13); it is counted, never reported as a stale translation.
     */
    @Override
    public void accessedCleared(int asId, long gfn, long pages) {
        if (asId != 0) {
            return;
        }
        Map.Entry<Long, Long> before = aged.floorEntry(gfn);
        if (before != null && before.getValue() >= gfn) {
            aged.put(before.getKey(), Math.max(before.getValue(), gfn + pages));
        } else {
            aged.put(gfn, gfn + pages);
        }
    }

    /** Guest accesses that went through a cached translation whose SPTE aging had left old (see {@link #accessedCleared}). */
    public long staleAccessedUses() {
        return staleAccessedUses;
    }

    private boolean agedSinceLastFlush(long gfn) {
        Map.Entry<Long, Long> e = aged.floorEntry(gfn);
        return e != null && gfn < e.getValue();
    }

    /**
     * handle_changed_spte() took a translation away (or narrowed it) for [gfn, gfn + pages): until the next
     * remote flush, vCPUs may still use the old one, which is fine while the operation that did it is still
     * running (flushes are batched, and some are deferred past a yield). Owned by the calling thread: its own
     * checkpoint holds it to account, other threads' checkpoints let it be.
     */
    @Override
    public void flushOwed(long gfn, long pages) {
        SimThread t = kvm.sched().current();
        List<OwedRange> ranges = owed.computeIfAbsent(t, k -> new ArrayList<>());
        OwedRange last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
        if (last != null && gfn >= last.start && gfn <= last.end) {
            last.end = Math.max(last.end, gfn + pages);
        } else {
            ranges.add(new OwedRange(gfn, gfn + pages));
        }
    }

    private boolean owedByAnotherThread(long gfn) {
        if (owed.isEmpty()) {
            return false;
        }
        SimThread self = kvm.sched().current();
        for (Map.Entry<SimThread, List<OwedRange>> e : owed.entrySet()) {
            if (e.getKey() == self) {
                continue;
            }
            for (OwedRange r : e.getValue()) {
                if (gfn >= r.start && gfn < r.end) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
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
    @Override
    public void tlbEntryUsed(int vcpu, long gfn, long pfn, boolean write) {
        if (!kvm.phys().isLive(pfn)) {
            report(String.format("guest %s through a cached translation to pfn 0x%x, a freed host page",
                    write ? "write" : "read", pfn), vcpu, gfn);
        } else if (!aged.isEmpty() && agedSinceLastFlush(gfn) && asOf(vcpu) == 0) {
            KvmMmuPage root = kvm.vcpus().get(vcpu).root();
            long spte = root == null ? Spte.NONPRESENT : kvm.tdpMmu().walk(root, gfn).spte();
            if (Spte.isPresent(spte) && !Spte.isAccessed(spte)) {
                staleAccessedUses++;
            }
        }
    }

    /**
     * The memslot backing gfn now, for the checks. The oracle keeps its own two last hits (valid while the
     * memslot generation stays the same) instead of the model's search_memslots() cache: it looks up a slot on
     * every guest access, alternating between the page tables' slot and the data's, which would only make the
     * model's cache miss, and would make a one-entry cache of its own miss as often.
     */
    /** The address space vCPU {@code vcpu} accesses memory in (1 while in SMM). */
    private int asOf(int vcpu) {
        return vcpu >= 0 && vcpu < kvm.vcpus().size() ? kvm.vcpus().get(vcpu).asId() : 0;
    }

    /** slotOf(gfn) in address space {@code as}; only address space 0 goes through the two-entry cache. */
    private Memslot slotOf(int as, long gfn) {
        return as == 0 ? slotOf(gfn) : kvm.memslots().find(as, gfn);
    }

    private Memslot slotOf(long gfn) {
        long generation = kvm.memslots().generation(0);
        if (generation == lastSlotGeneration) {
            Memslot s = lastSlot;
            if (s != null && s.contains(gfn)) {
                return s;
            }
            s = previousSlot;
            if (s != null && s.contains(gfn)) {
                previousSlot = lastSlot;
                lastSlot = s;
                return s;
            }
        } else {
            lastSlot = null;
            previousSlot = null;
            lastSlotGeneration = generation;
        }
        Memslot s = kvm.memslots().find(0, gfn);
        if (s != null) {
            previousSlot = lastSlot;
            lastSlot = s;
        }
        return s;
    }

    /**
     * The hardware walk found a present SPTE allowing the access: the page it maps must still exist (a zap
     * nobody did), a memslot must back the gfn (else KVM would have made the access an MMIO exit), no SPTE
     * of a read-only slot may be writable, and where the host maps the slot's hva the SPTE must map the same page
     * (a huge SPTE over a slot whose gpa and hva are not equally aligned, or one reaching past the slot's end,
     * maps the wrong page or none).
     */
    @Override
    public void spteUsed(int vcpu, long gfn, long pfn, boolean writable) {
        int as = asOf(vcpu);
        if (as != 0) {
            checkSpteUsed(vcpu, as, gfn, pfn, writable); // SMM: rare, so not remembered
            return;
        }
        long generation = kvm.memslots().generation(0);
        long hostChanges = kvm.mm().mappingChanges();
        boolean known = checked.holds(gfn, pfn, writable, generation, hostChanges);
        if (known && !MemoCheck.ENABLED) {
            return;
        }
        int reported = violations.size();
        boolean stable = checkSpteUsed(vcpu, 0, gfn, pfn, writable);
        if (known && violations.size() != reported) {
            throw new IllegalStateException("the oracle remembered gfn 0x" + Long.toHexString(gfn) + " -> pfn 0x"
                    + Long.toHexString(pfn) + " as checked, but the check now finds: "
                    + violations.get(violations.size() - 1).what()
                    + "; a host mapping changed without an MMU notifier announcement or a page free");
        }
        if (stable && violations.size() == reported) {
            checked.remember(gfn, pfn, writable, generation, hostChanges);
        }
    }

    /** spteUsed()'s checks; true if the translation passed them with its host page mapped (or in a private slot). */
    private boolean checkSpteUsed(int vcpu, int as, long gfn, long pfn, boolean writable) {
        if (!kvm.phys().isLive(pfn)) {
            report(String.format("an SPTE still maps gfn 0x%x to pfn 0x%x, a freed host page", gfn, pfn), vcpu, gfn);
            return false;
        }
        Memslot slot = slotOf(as, gfn);
        if (slot == null) {
            report(String.format("a RAM access through an SPTE mapping gfn 0x%x (pfn 0x%x), which no memslot backs:"
                    + " KVM would have exited to userspace with KVM_EXIT_MMIO", gfn, pfn), vcpu, gfn);
            return false;
        }
        if (writable && slot.readOnly()) {
            report(String.format("a writable SPTE for gfn 0x%x in read-only %s", gfn, slot),
                    vcpu, gfn);
            return false;
        }
        if (slot.isPrivate()) {
            return true;
        }
        long hostPfn = kvm.mm().pfnIfMapped(slot.gfnToHva(gfn));
        if (hostPfn >= 0 && hostPfn != pfn) {
            report(String.format("an SPTE maps gfn 0x%x to pfn 0x%x but the host maps its hva 0x%x to pfn 0x%x",
                    gfn, pfn, slot.gfnToHva(gfn), hostPfn), vcpu, gfn);
        }
        return hostPfn == pfn;
    }

    /**
     * KVM is about to exit to userspace with KVM_EXIT_MMIO for {@code gfn}, having looked at the memslots of
     * {@code generation}. If they are still the current ones, no usable memslot may back the gfn: an MMIO exit
     * for guest RAM (a stale cached MMIO SPTE, say) hands userspace an access that should have hit memory.
     * A read-only slot legitimately turns writes into MMIO exits; a slot being deleted or moved makes the
     * fault retry, never exit.
     */
    @Override
    public void mmioExit(int vcpu, long gfn, boolean write, long generation, String why) {
        int as = asOf(vcpu);
        if (!kvm.config().oracle() || generation != kvm.memslots().generation(as)) {
            return;
        }
        Memslot slot = slotOf(as, gfn);
        if (slot != null && !(write && slot.readOnly())) {
            report(String.format("KVM_EXIT_MMIO (%s) for a %s of gfn 0x%x, which %s%s backs", why, write ? "write" : "read",
                    gfn, kvm.memslots().isInvalid(slot) ? "the invalid " : "", slot), vcpu, gfn);
        }
    }

    /**
     * Oracle (b): when invalidate_range_start returns, no root, valid or not, in any address space maps the
     * invalidated gfns any more.
     */
    @Override
    public void gfnRangeUnmapped(String where, int asId, long gfnStart, long gfnEnd) {
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

    @Override
    public void memslotFlushed(String what, int asId, long gfnStart, long gfnEnd) {
        if (!kvm.config().oracle()) {
            return;
        }
        for (KvmMmuPage root : kvm.tdpMmu().roots()) {
            if (root.asId() != asId || root.isFreed() || root.isInvalid()) {
                continue;
            }
            long gfn = kvm.tdpMmu().firstPresentLeaf(root, gfnStart, gfnEnd);
            if (gfn >= 0) {
                report(String.format("after kvm_arch_flush_shadow_memslot() for %s, valid %s still maps gfn 0x%x of the old"
                        + " slot [0x%x, 0x%x): a vCPU can reach memory no memslot backs there", what, root, gfn, gfnStart, gfnEnd),
                        -1, gfn);
                return;
            }
        }
    }

    /** The EPT walk reached a page table that RCU already freed. */
    @Override
    public void freedTableWalked(int vcpu, long gfn) {
        report("hardware EPT walk reached a freed page table", vcpu, gfn);
    }

    /** Every cached translation must be backed by the SPTEs now, unless a flush or root reload is pending. */
    @Override
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
            for (int i = 0; i < tlb.used(); i++) {
                int s = tlb.validSlot(i);
                if (owedByAnotherThread(tlb.gfn(s))) {
                    continue;
                }
                checkEntry(where, v, root, tlb.gfn(s), tlb.pfn(s), tlb.writable(s));
            }
        }
        owed.remove(kvm.sched().current());
    }

    private void checkEntry(String where, SimVcpu v, KvmMmuPage root, long gfn, long pfn, boolean writable) {
        EptWalk leaf = kvm.tdpMmu().walk(root, gfn);
        long spte = leaf.spte();
        if (!Spte.isPresent(spte)) {
            report(String.format("after %s the TLB still maps gfn 0x%x to pfn 0x%x but the SPTE is gone (%s)", where, gfn, pfn,
                    v.describeMmuState()), v.id(), gfn);
            return;
        }
        long expected = leaf.pfn();
        if (expected != pfn) {
            report(String.format("after %s the TLB maps gfn 0x%x to pfn 0x%x but the SPTE maps pfn 0x%x", where, gfn, pfn, expected),
                    v.id(), gfn);
        } else if (writable && !Spte.isWritable(spte)) {
            report(String.format("after %s the TLB allows writes to gfn 0x%x but the SPTE is write-protected (%s)", where, gfn,
                    v.describeMmuState()), v.id(), gfn);
        }
    }

    /**
     * While a slot is dirty-logged, every writable 4K SPTE in it must have its dirty bit set: a write through it
     * would otherwise never be reported to userspace.
     */
    public String checkDirtyLogCoverage() {
        for (int as = 0; as < Memslots.ADDRESS_SPACES; as++) {
            for (Memslot slot : kvm.memslots().slots(as)) {
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
        for (int level = Spte.PG_LEVEL_4K; level <= Spte.PG_LEVEL_1G; level++) {
            if (n[level] != p[level]) {
                return String.format("pages at level %d: stat %d, present leafs %d", level, p[level], n[level]);
            }
        }
        return null;
    }
}
