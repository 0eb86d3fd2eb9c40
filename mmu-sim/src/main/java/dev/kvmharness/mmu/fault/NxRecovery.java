// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.fault;

import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.Memslots;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.KvmMmuPage;
import dev.kvmharness.mmu.tdp.TdpZap;

/**
 * kvm_recover_nx_huge_pages() (the kvm-nx-lpage-recovery worker, arch/x86/kvm/mmu/mmu.c): zaps a fraction of the
 * tables that exist only because the NX huge page mitigation split a huge page on an exec fault, so a later
 * non-exec fault can map the huge page again. Current kernels zap just each table's parent SPTE and flush once
 * per batch; legacy ones zapped the table's whole gfn range in every root of the address space.
 */
public final class NxRecovery {
    private final SimKvm kvm;

    public NxRecovery(SimKvm kvm) {
        this.kvm = kvm;
    }

    /** One run of the worker: ceil(nx_lpage_splits / ratio) pages. @return pages zapped */
    public int recover() {
        int ratio = kvm.config().nxRecoveryRatio();
        if (!kvm.config().nxHugePages() || ratio == 0) {
            return 0;
        }
        kvm.mmuLock().writeLock();
        kvm.rcu().readLock();
        long splits = kvm.stats().nxLpageSplits;
        long toZap = (splits + ratio - 1) / ratio;
        boolean flush = false;
        int zapped = 0;
        boolean anyLogging = anySlotDirtyLogging();
        for (; toZap > 0; toZap--) {
            KvmMmuPage sp = kvm.tdpMmu().oldestPossibleNxHugePage();
            if (sp == null) {
                break;
            }
            Memslot slot = anyLogging ? kvm.memslots().lookup(sp.asId(), sp.gfn()) : null;
            if (slot != null && slot.dirtyLogging()) {
                kvm.tdpMmu().forgetPossibleNxHugePage(sp);
            } else if (kvm.policy().has(Behaviour.NX_RECOVERY_ZAP_SP)) {
                flush |= TdpZap.zapSp(kvm.tdpMmu(), sp);
                zapped++;
            } else {
                long end = sp.gfn() + Spte.pagesPerEntry(sp.level() + 1);
                flush |= TdpZap.unmapGfnRange(kvm.tdpMmu(), sp.asId(), sp.gfn(), end, false, false).flushOwed();
                kvm.tdpMmu().forgetPossibleNxHugePage(sp);
                zapped++;
            }
        }
        if (flush) {
            kvm.flushRemoteTlbs(FlushSite.NX_RECOVERY);
        }
        kvm.rcu().readUnlock();
        kvm.mmuLock().writeUnlock();
        kvm.observer().note("nx recovery zapped " + zapped);
        kvm.observer().checkpoint("kvm_recover_nx_huge_pages");
        return zapped;
    }

    private boolean anySlotDirtyLogging() {
        for (int as = 0; as < Memslots.ADDRESS_SPACES; as++) {
            for (Memslot s : kvm.memslots().slots(as)) {
                if (s.dirtyLogging()) {
                    return true;
                }
            }
        }
        return false;
    }
}
