// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import dev.kvmharness.mmu.fault.PageFault;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimLivelockException;
import dev.kvmharness.mmu.sched.WaitQueue;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.tdp.EptWalk;
import dev.kvmharness.mmu.tdp.KvmMmuPage;
import dev.kvmharness.mmu.tdp.PfResult;
import dev.kvmharness.mmu.tlb.Tlb;

/**
 * struct kvm_vcpu as the MMU sees it: its mode and pending requests, its root, its TLB, and what the hardware
 * does on a guest access: look up the TLB, else walk the guest page tables and the EPT (each guest PTE read is
 * itself a guest-physical access through the EPT) and cache the result, taking an EPT violation into
 * {@link PageFault} where the EPT does not allow the access. Requests are serviced on guest entry
 * (vcpu_enter_guest), and a kicked vCPU leaves guest mode before its next access.
 */
public final class SimVcpu {
    private static final ThreadLocal<SimVcpu> RUNNING = new ThreadLocal<>();
    private static final long PAGE_MASK = 4095;
    /** x86 PTE bits the guest page walk needs. */
    private static final long PTE_PRESENT = 1, PTE_PS = 1L << 7;
    private static final long PTE_ADDR = 0x000f_ffff_ffff_f000L;

    private final SimKvm kvm;
    private final int id;
    private final Tlb tlb;
    private final VcpuStats stats = new VcpuStats();
    private final PageFault pageFault;
    /** The hardware EPT walker, reused by every access so the access path allocates nothing. */
    private final EptWalk eptWalk;
    /** What the last guest walks found for the guest page-table pages ({@link GuestTableMemo}). */
    private final GuestTableMemo tableMemo = new GuestTableMemo();
    private VcpuMode mode = VcpuMode.OUTSIDE_GUEST_MODE;
    private int requests;
    private KvmMmuPage root;
    /** In system management mode (HF_SMM_MASK): the MMU role's smm bit, hence address space 1. */
    private boolean smm;
    private boolean everLoaded;
    /** Guest CR3 (4-level paging), or -1 when the guest runs with paging off (gva == gpa). */
    private long cr3 = -1;
    /** Guest paging levels: 4, or 5 with CR4.LA57. */
    private int guestLevels = 4;
    /** The guest's IDTR: a linear base and a limit (reset value: base 0, limit 0xffff; the harness loads 0/0). */
    private long idtBase;
    private int idtLimit;
    private final ExceptionDelivery delivery = new ExceptionDelivery(this);
    /** Where the vCPU waits while its guest spins on memory ({@link #waitWhileSpinning}); made on first use. */
    private WaitQueue spinWait;
    /** While waiting there: set by whatever could change what the spinning guest sees. */
    private boolean spinning;
    private boolean spinWoken;
    private final Runnable wakeSpinner = this::wakeSpinner;
    /** #DE, for {@link #raise}. */
    public static final int DE_VECTOR = ExceptionDelivery.DE_VECTOR;
    /** The reset vector: CS.base 0xffff0000 + RIP 0xfff0, what a vCPU nobody set up fetches first. */
    public static final long RESET_VECTOR_GPA = 0xffff_fff0L;

    SimVcpu(SimKvm kvm, int id) {
        this.kvm = kvm;
        this.id = id;
        this.tlb = new Tlb(kvm.config().tlbEntries());
        this.pageFault = new PageFault(kvm, this);
        this.eptWalk = new EptWalk(kvm.tdpMmu().tables());
    }

    /** The vCPU whose KVM_RUN the calling thread is in, if it belongs to {@code kvm}. */
    static SimVcpu currentOf(SimKvm kvm) {
        SimVcpu v = RUNNING.get();
        return v != null && v.kvm == kvm ? v : null;
    }

    public int id() {
        return id;
    }

    public SimKvm kvm() {
        return kvm;
    }

    public VcpuStats stats() {
        return stats;
    }

    public Tlb tlb() {
        return tlb;
    }

    /** kvm_mmu_role_as_id(): the address space of this vCPU's memslots and root, 1 in SMM. */
    public int asId() {
        return smm ? 1 : 0;
    }

    public boolean inSmm() {
        return smm;
    }

    /**
     * An SMI taken (enter_smm()) or RSM (emulator_leave_smm()): kvm_smm_changed() flips the mode and calls
     * kvm_mmu_reset_context(), so the vCPU drops its root and loads one of the other address space on its
     * next entry. On kernels that free a root with its last reference, leaving a root nobody else uses zaps it.
     */
    public void setSmm(boolean on) {
        if (smm == on) {
            return;
        }
        smm = on;
        resetMmuContext();
    }

    public KvmMmuPage root() {
        return root;
    }

    public VcpuMode mode() {
        return mode;
    }

    public boolean everLoaded() {
        return everLoaded;
    }

    /** The vCPU's root, mode and pending requests, for violation reports. */
    public String describeMmuState() {
        return String.format("vCPU %d in %s, root %s%s, requests 0x%x", id, mode, root, root != null && root.isInvalid() ? " (invalid)" : "",
                requests);
    }

    public boolean hasRequest(KvmRequest r) {
        return (requests & r.bit()) != 0;
    }

    /** The guest's page-table root (KVM_SET_SREGS cr3), -1 for paging off. */
    public void setCr3(long cr3) {
        this.cr3 = cr3;
        tlb.flushAll();
    }

    /** CR4.LA57 (KVM_SET_SREGS cr4): the guest walk starts at level 5 instead of 4. */
    public void setLa57(boolean la57) {
        this.guestLevels = la57 ? 5 : 4;
        tlb.flushAll();
    }

    /** LIDT (or KVM_SET_SREGS idt): the IDT the CPU delivers guest exceptions through. */
    public void setIdt(long base, int limit) {
        this.idtBase = base;
        this.idtLimit = limit & 0xffff;
    }

    public long idtBase() {
        return idtBase;
    }

    public int idtLimit() {
        return idtLimit;
    }

    void setRequest(KvmRequest r) {
        requests |= r.bit();
        wakeSpinner();
    }

    /** kvm_vcpu_kick() as the request path does it: a vCPU in guest mode is IPI'd out. */
    boolean kickIfInGuest() {
        if (mode == VcpuMode.OUTSIDE_GUEST_MODE) {
            return false;
        }
        mode = VcpuMode.EXITING_GUEST_MODE;
        wakeSpinner();
        return true;
    }

    /**
     * The guest is in a loop that only reads memory through this vCPU's TLB and would repeat itself exactly
     * until someone else acts: wait, in guest mode, until a page the TLB maps is written or freed, a request
     * or kick arrives, or {@code deadlineNs}. What the loop would have done meanwhile is nothing but spend time,
     * which the caller adds on waking; the waiting costs no handoffs, however many scheduling points the other
     * threads pass meanwhile (a host making thousands of syscalls while the guest polls a flag).
     *
     * @return whether something woke it (false: the deadline passed); the clock is then at least the waker's
     */
    public boolean waitWhileSpinning(long deadlineNs) {
        if (spinWait == null) {
            spinWait = kvm.sched().newWaitQueue("guest spin loop of vCPU " + id);
        }
        long[] pfns = new long[tlb.used()];
        for (int i = 0; i < pfns.length; i++) {
            pfns[i] = tlb.pfn(tlb.validSlot(i));
        }
        spinning = true;
        spinWoken = false;
        kvm.phys().watch(pfns, wakeSpinner);
        try {
            return spinWait.await(() -> spinWoken || requests != 0 || mode == VcpuMode.EXITING_GUEST_MODE, deadlineNs);
        } finally {
            kvm.phys().unwatch(pfns, wakeSpinner);
            spinning = false;
        }
    }

    private void wakeSpinner() {
        if (spinning && !spinWoken) {
            spinWoken = true;
            spinWait.wakeAll();
        }
    }

    // ---------------------------------------------------------------- KVM_RUN

    /** The start of KVM_RUN on the calling thread (vcpu_load). Pair with {@link #endRun(GuestExit.Reason)}. */
    public void beginRun() {
        if (kvm.isDestroyed()) {
            throw new IllegalStateException("KVM_RUN on a destroyed VM");
        }
        RUNNING.set(this);
        if (!everLoaded) {
            // vmx_vcpu_load_vmcs(): the first load onto a physical CPU asks for a full flush.
            setRequest(KvmRequest.TLB_FLUSH);
            everLoaded = true;
        }
        kvm.sched().charge(Cost.IOCTL);
        enterGuest();
    }

    /** Leaving KVM_RUN for userspace with {@code reason}. */
    public void endRun(GuestExit.Reason reason) {
        if (mode != VcpuMode.OUTSIDE_GUEST_MODE) {
            exitGuest();
        }
        switch (reason) {
            case MMIO -> stats.mmioExits++;
            default -> {
            }
        }
        RUNNING.remove();
    }

    /** KVM_RUN failing with an errno (e.g. -EFAULT from kvm_faultin_pfn()): back to userspace, no exit reason. */
    public void endRunWithError() {
        if (mode != VcpuMode.OUTSIDE_GUEST_MODE) {
            exitGuest();
        }
        RUNNING.remove();
    }

    /** A ucall: the guest's port I/O exit (KVM_EXIT_IO), back to userspace. */
    public void ioExit() {
        exitGuest();
        stats.ioExits++;
        kvm.sched().charge(Cost.UCALL_EXIT);
        RUNNING.remove();
    }

    /**
     * vcpu_enter_guest(): service requests (drop obsolete roots, flush the TLB), reload the root if needed, enter
     * guest mode.
     */
    void enterGuest() {
        if (hasRequest(KvmRequest.MMU_FREE_OBSOLETE_ROOTS)) {
            if (root != null && root.isInvalid()) {
                unloadRootLocked();
            }
            // Cleared once the obsolete root is gone, not before: while this vCPU waits for mmu_lock it still
            // holds the old root, and what it owes (a reload, hence a flush) must stay visible.
            requests &= ~KvmRequest.MMU_FREE_OBSOLETE_ROOTS.bit();
        }
        if (hasRequest(KvmRequest.TLB_FLUSH)) {
            requests &= ~KvmRequest.TLB_FLUSH.bit();
            tlb.flushAll();
            stats.tlbFlush++;
            kvm.sched().charge(Cost.TLB_FLUSH_LOCAL);
        }
        if (root == null) {
            loadRoot();
        }
        mode = VcpuMode.IN_GUEST_MODE;
        kvm.sched().charge(Cost.VMENTRY);
    }

    /** A VM exit: back to the host side of KVM_RUN. */
    void exitGuest() {
        mode = VcpuMode.OUTSIDE_GUEST_MODE;
        stats.exits++;
        kvm.sched().charge(Cost.VMEXIT);
    }

    /** kvm_mmu_load(): take a reference to the current root and flush this vCPU's TLB locally. */
    private void loadRoot() {
        kvm.mmuLock().readLock();
        root = kvm.tdpMmu().allocRoot(asId());
        kvm.mmuLock().readUnlock();
        if (kvm.policy().flushes(FlushSite.ROOT_LOAD)) {
            tlb.flushAll();
        }
        kvm.sched().charge(Cost.TLB_FLUSH_LOCAL);
    }

    private void unloadRootLocked() {
        kvm.mmuLock().readLock();
        unloadRoot();
        kvm.mmuLock().readUnlock();
    }

    /** kvm_mmu_free_roots() for this vCPU's root (caller holds mmu_lock). */
    void unloadRoot() {
        if (root != null) {
            KvmMmuPage r = root;
            root = null;
            tableMemo.clear();
            kvm.tdpMmu().putRoot(r);
        }
    }

    /** Root role changed (e.g. CR0.WP through KVM_SET_SREGS): kvm_mmu_reset_context() unloads; the next entry reloads. */
    public void resetMmuContext() {
        unloadRootLocked();
    }

    /**
     * Called between guest instructions: a pending request (or a kick) makes the vCPU exit and re-enter, which
     * services it, as a real vCPU does when the IPI arrives.
     */
    public void checkRequests() {
        if (requests != 0 || mode == VcpuMode.EXITING_GUEST_MODE) {
            exitGuest();
            enterGuest();
        }
    }

    // ---------------------------------------------------------------- guest accesses

    /**
     * A guest access of {@code width} bytes at {@code gva}: the host page and offset it lands on, as
     * {@code pfn << 12 | offset}. Faults are handled on the way; an access KVM must hand to userspace throws
     * {@link GuestExit}.
     */
    public long translate(long gva, int width, boolean write) {
        if (((gva & PAGE_MASK) + width) > 4096) {
            throw new IllegalArgumentException(String.format("guest access of %d bytes at 0x%x crosses a page", width, gva));
        }
        int unused = 64 - (12 + 9 * guestLevels);
        if ((gva << unused >> unused) != gva) {
            // A non-canonical address (48-bit linear addresses, 57-bit with LA57) faults before any
            // translation: #GP(0).
            throw delivery.deliver(ExceptionDelivery.GP_VECTOR, String.format("non-canonical address 0x%x", gva));
        }
        checkRequests();
        long page = gva >>> 12;
        int slot = tlb.lookup(page);
        if (slot >= 0 && (!write || tlb.writable(slot))) {
            long pfn = tlb.pfn(slot);
            if (kvm.config().oracle()) {
                kvm.observer().tlbEntryUsed(id, tlb.gfn(slot), pfn, write);
            }
            return pfn << 12 | (gva & PAGE_MASK);
        }
        kvm.sched().charge(Cost.TLB_FILL);
        long gpa;
        try {
            gpa = linearToGpa(gva, write);
        } catch (GuestPageFault f) {
            throw delivery.deliver(ExceptionDelivery.PF_VECTOR, f.getMessage());
        }
        long gfn = gpa >>> 12;
        EptWalk leaf = eptTranslate(gfn, write, false);
        long pfn = leaf.pfn();
        tlb.fill(page, gfn, pfn, leaf.writable());
        return pfn << 12 | (gva & PAGE_MASK);
    }

    /** A guest page fault (#PF) the page walk found, before it is delivered through the IDT. */
    static final class GuestPageFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        GuestPageFault(String why) {
            super(why, null, false, false);
        }
    }

    /** The guest-physical address of linear address {@code gva}: the identity with paging off, else a walk. */
    long linearToGpa(long gva, boolean write) {
        return cr3 < 0 ? gva : guestWalk(gva);
    }

    /**
     * The hardware walk of the guest's 4- or 5-level page tables; each PTE read goes through the EPT. A PTE that is
     * not present is a #PF. So is a PTE in guest-physical memory no memslot backs: the CPU's read exits as an
     * EPT violation KVM can only emulate, and the emulator's own walk (walk_addr_generic() in
     * paging_tmpl.h, reading the PTE through kvm_vcpu_read_guest) fails there and injects a #PF. The R/W bit is
     * not checked: guest code runs at CPL 0 with CR0.WP clear (vcpu_init_sregs()), where writes ignore it.
     */
    private long guestWalk(long gva) {
        long table = cr3 & PTE_ADDR;
        for (int level = guestLevels; level >= 1; level--) {
            int idx = (int) ((gva >>> (12 + 9 * (level - 1))) & 511);
            long ptePa = table + idx * 8L;
            long pfn;
            try {
                pfn = tablePfn(level, ptePa >>> 12);
            } catch (GuestExit e) {
                if (e.reason() != GuestExit.Reason.MMIO) {
                    throw e;
                }
                stats.pfGuest++;
                throw new GuestPageFault(String.format("#PF at gva 0x%x: level %d PTE at gpa 0x%x is in no memslot",
                        gva, level, ptePa));
            }
            long pte = kvm.phys().read(pfn, (int) (ptePa & PAGE_MASK), 8);
            if ((pte & PTE_PRESENT) == 0) {
                stats.pfGuest++;
                throw new GuestPageFault(String.format("#PF at gva 0x%x: level %d PTE not present", gva, level));
            }
            if (level > 1 && (pte & PTE_PS) != 0) {
                long span = 1L << (12 + 9 * (level - 1));
                return (pte & PTE_ADDR & -span) | (gva & (span - 1));
            }
            table = pte & PTE_ADDR;
        }
        return table | (gva & PAGE_MASK);
    }

    /**
     * The EPT translation of the guest page-table page {@code gfn} that the walk reads its level-{@code level}
     * PTE from: eptTranslate() for a read, or what the last walk found there if nothing it depends on changed
     * ({@link GuestTableMemo}), with the same cost and the same oracle check.
     */
    private long tablePfn(int level, long gfn) {
        long stores = kvm.tdpMmu().tables().presentStores();
        if (root != null && requests == 0 && tableMemo.holds(level, gfn, root, stores)) {
            long pfn = tableMemo.pfn(level);
            if (GuestTableMemo.CHECK) {
                checkMemo(level, gfn);
            }
            kvm.sched().charge(Cost.EPT_WALK_LEVEL, tableMemo.levelsWalked(level));
            if (kvm.config().oracle()) {
                kvm.observer().spteUsed(id, gfn, pfn, tableMemo.writable(level));
            }
            return pfn;
        }
        EptWalk leaf = eptTranslate(gfn, false, false);
        tableMemo.remember(level, gfn, root, kvm.tdpMmu().tables().presentStores(), leaf.pfn(), leaf.writable(),
                leaf.levelsWalked());
        return leaf.pfn();
    }

    /** The memo's hit against a real walk: any difference is an SPTE store that bypassed SpTable.store(). */
    private void checkMemo(int level, long gfn) {
        EptWalk w = new EptWalk(kvm.tdpMmu().tables()).walk(root, gfn);
        if (!w.isPresentLeaf() || !Spte.isAccessed(w.spte()) || w.pfn() != tableMemo.pfn(level)
                || w.writable() != tableMemo.writable(level) || w.levelsWalked() != tableMemo.levelsWalked(level)) {
            throw new IllegalStateException(String.format("vCPU %d's memo of guest page-table gfn 0x%x (level %d: pfn 0x%x,"
                    + " %s, %d EPT levels) is stale: the walk finds %s; an SPTE changed without SpTable.store()",
                    id, gfn, level, tableMemo.pfn(level), tableMemo.writable(level) ? "writable" : "read-only",
                    tableMemo.levelsWalked(level), w));
        }
    }

    /**
     * The EPT half of a translation: walks this vCPU's root for {@code gfn}; on an EPT violation (or
     * misconfiguration, for MMIO SPTEs) runs the fault path and walks again. An access that takes
     * {@link SimConfig#livelockFaults()} faults in a row while nothing the fault path checks changes (another
     * invalidation, a memslot update) and no other thread is left to change it is a livelock: the fault path
     * keeps sending the vCPU back (a RET_PF_RETRY that nothing will clear) while the vCPU stays runnable, so
     * nothing else would stop it. While other threads still run, the bound is {@link SimConfig#LIVELOCK_BACKSTOP}
     * times higher: one of them may hold the invalidation the fault waits for, for as long as its work takes.
     *
     * @return this vCPU's walker, holding the present leaf that allows the access (valid until the next walk)
     * @throws SimLivelockException past that bound
     */
    EptWalk eptTranslate(long gfn, boolean write, boolean exec) {
        // The faults of this access in a row, since the state the fault path checks last changed, how many of them
        // retried and how the last one ended; kept only on the fault path, so an access that hits in the EPT pays
        // nothing for the bound.
        long faults = 0;
        long retries = 0;
        PfResult last = null;
        long seq = 0;
        int inProgress = 0;
        long generation = 0;
        for (;;) {
            if (root == null || requests != 0) {
                exitGuest();
                enterGuest();
            }
            EptWalk leaf = eptWalk.walk(root, gfn);
            if (leaf.reachedFreedTable()) {
                if (kvm.config().oracle()) {
                    kvm.observer().freedTableWalked(id, gfn);
                }
                throw new IllegalStateException("KVM bug: vCPU " + id + "'s EPT walk of " + root + " reached a freed page table: "
                        + leaf);
            }
            long spte = leaf.spte();
            kvm.sched().charge(Cost.EPT_WALK_LEVEL, leaf.levelsWalked());
            if (Spte.isPresent(spte) && (!write || Spte.isWritable(spte)) && (!exec || Spte.isExecutable(spte))) {
                if (!Spte.isAccessed(spte)) {
                    // The CPU sets the A bit itself, without KVM.
                    leaf.table().hardwareSetBits(leaf.index(), Spte.ACCESSED);
                }
                if (kvm.config().oracle()) {
                    kvm.observer().spteUsed(id, gfn, leaf.pfn(), leaf.writable());
                }
                return leaf;
            }
            exitGuest();
            if (faults > 0) {
                MmuInvalidate inv = kvm.invalidate();
                if (inv.seq() != seq || inv.inProgress() != inProgress || kvm.memslots().generation(asId()) != generation) {
                    // Another thread invalidated or updated memslots since this run of faults began: the next try
                    // may see a different world (a stream of invalidations can keep a fault retrying for long, and
                    // ends), so the count starts again; only retries in an unchanging world add up to a livelock.
                    faults = 0;
                    retries = 0;
                } else if (faults >= kvm.config().livelockFaults()) {
                    boolean others = kvm.sched().othersMayAct();
                    if (!others || faults >= kvm.config().livelockFaults() * SimConfig.LIVELOCK_BACKSTOP) {
                        throw livelock(gfn, write, exec, faults, retries, last, others);
                    }
                }
            }
            if (faults == 0) {
                seq = kvm.invalidate().seq();
                inProgress = kvm.invalidate().inProgress();
                generation = kvm.memslots().generation(asId());
            }
            // vcpu_run() holds kvm->srcu outside guest mode: the fault's memslot lookups are SRCU readers
            int srcuIdx = kvm.srcu().readLock();
            try {
                last = pageFault.handle(gfn, write, exec, spte);
            } finally {
                kvm.srcu().readUnlock(srcuIdx);
            }
            faults++;
            if (last == PfResult.RETRY) {
                retries++;
            }
            enterGuest();
        }
    }

    /**
     * The report of an access that took {@code faults} page faults in a row in an unchanging world without
     * completing, {@code retries} of them RET_PF_RETRY, the last ending in {@code last}; {@code others}: other
     * threads still ran.
     */
    private SimLivelockException livelock(long gfn, boolean write, boolean exec, long faults, long retries, PfResult last,
                                          boolean others) {
        String results;
        if (retries == faults) {
            results = "RET_PF_RETRY each time, the last from " + pageFault.describeRetry();
        } else if (retries == 0) {
            results = "never RET_PF_RETRY, yet the walk after each fault found no SPTE that allows the access (the last"
                    + " fault RET_PF_" + last + ")";
        } else {
            results = "RET_PF_RETRY " + retries + " times (the last from " + pageFault.describeRetry()
                    + "), the last fault RET_PF_" + last;
        }
        return kvm.sched().livelock(String.format("vCPU %d took the page fault at gfn 0x%x (%s) %d times in a row in one"
                + " guest access without completing it, while mmu_invalidate_seq, mmu_invalidate_in_progress and the"
                + " memslots stayed the same%s: %s; %s", id, gfn, exec ? "fetch" : write ? "write" : "read", faults,
                others ? " though other threads ran" : " and no other thread was left to change them", results,
                describeMmuState()));
    }

    /**
     * An instruction fetch from guest-physical {@code gpa} (paging off): always walks the EPT, since the model
     * has no separate instruction TLB, so exec faults (and the NX huge page mitigation) happen where they would.
     */
    public void fetch(long gpa) {
        checkRequests();
        eptTranslate(gpa >>> 12, false, true);
    }

    /**
     * An exception the guest raised outside the memory path (the interpreter's #DE), delivered through the
     * guest IDT: the exit KVM_RUN ends with (there are no guest handlers to run).
     */
    public GuestExit raise(int vector, String why) {
        return delivery.deliver(vector, why);
    }

    /**
     * KVM_RUN of a vCPU that was only created (__vm_vcpu_add(), no registers set): it starts at the reset
     * vector with paging off. With no memslot there the fetch's EPT violation is MMIO, which KVM emulates,
     * and the emulator cannot fetch an instruction from MMIO (x86_decode_emulated_instruction() fails):
     * handle_emulation_failure() exits with KVM_EXIT_INTERNAL_ERROR, KVM_INTERNAL_ERROR_EMULATION. Running
     * real-mode code from a memslot is not modelled.
     */
    public GuestExit runFromReset() {
        beginRun();
        GuestExit exit;
        try {
            fetch(RESET_VECTOR_GPA);
            endRun(GuestExit.Reason.INTR);
            throw new UnsupportedOperationException("executing x86 code from a memslot at the reset vector is not modelled");
        } catch (GuestExit e) {
            exit = e.reason() != GuestExit.Reason.MMIO ? e : GuestExit.internalError(GuestExit.KVM_INTERNAL_ERROR_EMULATION,
                    new long[0], String.format("instruction fetch at gpa 0x%x hits no memslot", RESET_VECTOR_GPA));
        } catch (RuntimeException e) {
            // KVM_RUN itself fails (EFAULT: the memslot's host memory is gone): out of KVM_RUN, then the error.
            endRun(GuestExit.Reason.INTR);
            throw e;
        }
        endRun(exit.reason());
        return exit;
    }

    /** Reads guest-physical memory the way the CPU would for this vCPU (used by the guest page walk and tests). */
    public long readGpa(long gpa, int width) {
        long pfn = eptTranslate(gpa >>> 12, false, false).pfn();
        return kvm.phys().read(pfn, (int) (gpa & PAGE_MASK), width);
    }
}
