// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.util.Locale;

/**
 * What one simulated operation costs in virtual nanoseconds, by default. Every default is an order-of-magnitude
 * estimate for a current x86 server core with EPT (not a measurement of this machine); a cost file
 * ({@link CostModel#load}) overrides any of them. Only ratios matter for contention: the simulator never compares
 * virtual time with wall-clock time.
 */
public enum Cost {
    /** One simple guest instruction retired (ALU op or cached load/store); estimate ~1 ns at 2-3 GHz. */
    GUEST_INSN(1),
    /**
     * What one guest instruction costs more for each other vCPU of the VM inside KVM_RUN at the same time: the
     * host's shared caches, memory bandwidth and, under shadow paging, the emulator and mmu_lock that the guest's
     * trapped instructions go through. The simulator gives every vCPU a CPU of its own and has no such sharing, so
     * the default is 0; {@code calibrate} fits it from multi-vCPU runs (vCPU count scaling).
     */
    GUEST_INSN_SMP(0),
    /** A guest access that hits the TLB: nothing beyond the instruction itself (a modelling choice, not a measurement). */
    TLB_HIT(0),
    /** Fixed part of a TLB miss (hardware walker start, fill); estimate, the per-level walk is extra. */
    TLB_FILL(20),
    /** One EPT level of the hardware two-dimensional walk, entry in the data cache; estimate. */
    EPT_WALK_LEVEL(5),
    /** VM exit: hardware state save plus KVM's exit dispatch (vmx_handle_exit); estimate, ~60% of a ~1 us round trip. */
    VMEXIT(600),
    /** VM entry: KVM's entry path plus VMRESUME; estimate, ~40% of a ~1 us round trip. */
    VMENTRY(400),
    /** One ioctl syscall on a KVM fd (entry/exit with mitigations, fd lookup, dispatch); estimate. */
    IOCTL(250),
    /** Fixed work of kvm_mmu_page_fault / kvm_tdp_page_fault before the TDP walk (slot lookup, checks); estimate. */
    FAULT_BASE(250),
    /** fast_page_fault: lockless walk under RCU and one cmpxchg fixing a write-protected SPTE; estimate. */
    FAST_FAULT(120),
    /** Reading one SPTE (READ_ONCE of a cached page-table entry); estimate. */
    SPTE_READ(2),
    /** Plain store of one SPTE under mmu_lock held for write; estimate. */
    SPTE_WRITE(8),
    /** Locked cmpxchg/xchg of one SPTE (tdp_mmu_set_spte_atomic), cache line owned; estimate. */
    SPTE_CMPXCHG(15),
    /** A shadow page (struct kvm_mmu_page + table page) from the vCPU's memory caches, initialised; estimate. */
    SP_ALLOC(150),
    /** Freeing a shadow page and its table page in the RCU callback (tdp_mmu_free_sp_rcu_callback); estimate. */
    SP_FREE(60),
    /** get_user_page_fast_only for one hva in hva_to_pfn (lockless host walk); estimate. */
    GUP_FAST(60),
    /** Buddy allocation of one 4 KiB host page in the host fault handler; estimate. */
    HOST_PAGE_ALLOC(250),
    /** clear_page of 4 KiB (~12 GB/s); estimate. */
    HOST_PAGE_ZERO(350),
    /** copy_page of 4 KiB, e.g. UFFDIO_COPY (~9 GB/s); estimate. */
    HOST_PAGE_COPY(450),
    /**
     * The fixed part of one mm syscall on guest memory (mmap, munmap, mprotect, madvise): entry/exit with
     * mitigations, mmap_lock, the VMA lookup, the mmu_gather set-up and finish; page work and notifiers are
     * charged apart. An estimate: on the development host (a nested PVM guest) one madvise(MADV_DONTNEED) of a
     * 4 KiB page takes about 2 us in memslot_perf_test's unmap test, all of it included.
     */
    HOST_MM_SYSCALL(700),
    /**
     * Moving a cache line to the CPU that does an atomic on it, when another CPU wrote it last: the service time
     * of a contended line, which passes from CPU to CPU one transfer at a time (the count word of mmap_lock
     * when every vCPU's get_user_pages takes it). An estimate of a same-socket core-to-core transfer on a
     * current server; across sockets it is two to three times more.
     */
    CACHELINE_TRANSFER(50),
    /**
     * What rmqueue_bulk() spends per 4 KiB page under the zone lock when a CPU's per-CPU page list
     * (struct per_cpu_pages) runs empty and is refilled with a batch; estimate (list and struct page work, one
     * or two cache misses).
     */
    ZONE_LOCK_PAGE(40),
    /**
     * The memory bus's time for 4 KiB of page traffic: clearing a page writes 4 KiB, copying one reads and
     * writes 4 KiB each. The bus serves every CPU's clearing and copying together, so with many CPUs faulting it
     * is what they queue for; the default is ~100 GB/s of host memory bandwidth, an estimate for a
     * multi-channel server socket.
     */
    MEM_BUS_4K(40),
    /** One MMU-notifier callback into KVM (kvm_mmu_notifier_* entry, SRCU, range lookup), excluding zapping; estimate. */
    HOST_NOTIFIER(80),
    /** handle_userfault on the faulting thread: queue the uffd_msg, wake readers, go to sleep; estimate. */
    UFFD_FAULT(900),
    /** Waking the faulting thread after UFFDIO_COPY/UFFDIO_WAKE until it runs again (wakeup + reschedule); estimate. */
    UFFD_WAKE(1800),
    /** The handler's poll wakeup plus read() of one uffd_msg; estimate. */
    UFFD_READ(700),
    /** Uncontended lock acquisition: one atomic on a cache-hot lock word (e.g. queued_read_lock fast path); estimate. */
    LOCK(25),
    /** Extra cost when a contended lock passes to another CPU: the lock's cache line migrates; estimate. */
    LOCK_HANDOFF(150),
    /** A remote TLB-flush request: IPIs to running vCPUs and waiting for their acknowledgement; estimate. */
    IPI(1200),
    /** INVEPT single-context on the local CPU (kvm_vcpu_flush_tlb_guest / flush on VM entry); estimate. */
    TLB_FLUSH_LOCAL(150),
    /** kvm_make_request: an atomic set_bit in vcpu->requests; estimate. */
    REQUEST(20),
    /**
     * One RCU grace period. Real ones last milliseconds (tick driven); this default is deliberately shorter so
     * simulated runs stay short while remaining far longer than any fault path. An estimate, not a kernel value.
     */
    RCU_GRACE_PERIOD(25_000),
    /** kvm_swap_active_memslots installing a new memslot set, excluding the SRCU wait; estimate. */
    MEMSLOT_SWAP(3000),
    /** synchronize_srcu_expedited on kvm->srcu after a memslot change; estimate. */
    SRCU_SYNC(10_000),
    /**
     * How long a thread runs on a host CPU before it gives the CPU to a thread waiting for one, when the run
     * gives a host CPU count: EEVDF's base slice, 0.75 ms scaled by 1 + log2(CPUs) up to 8 CPUs.
     */
    SCHED_SLICE(3_000_000),
    /**
     * Waking a thread onto a host CPU that was idle, when the run gives a CPU count: the IPI and the CPU's exit
     * from its idle state before the thread runs. An estimate for a shallow C-state on bare metal; inside a VM
     * (a nested or paravirtualized host) an idle vCPU must first be scheduled by the outer hypervisor, tens of us.
     */
    CPU_IDLE_EXIT(2000),
    /** Starting a host thread (pthread_create until the new thread first runs); estimate. */
    THREAD_START(30_000),
    /** A guest ucall round trip: exit to userspace, KVM_RUN returns, decode, KVM_RUN again; estimate. */
    UCALL_EXIT(1500),
    /** An MMIO exit to userspace and back (KVM_EXIT_MMIO handled by the VMM); estimate. */
    MMIO_EXIT(1500),
    /** read() of a KVM binary stats fd (header, descriptors, data); estimate. */
    STATS_READ(2000),
    /**
     * The rest of kvm_tdp_mmu_map() under mmu_lock beyond the SPTE operations charged one by one
     * (kvm_mmu_hugepage_adjust, make_spte, tracepoints); estimate.
     */
    FAULT_MAP(150),
    /**
     * What the shadow-MMU fault path (direct_map before the TDP MMU) adds under mmu_lock held for write:
     * rmap_add and the shadow page hash; charged only under the pre-tdp policy; estimate.
     */
    RMAP_ADD(400),
    /**
     * One pread/pwrite of a procfs or sysfs file, e.g. 8 bytes of /proc/self/pagemap or of
     * /sys/kernel/mm/page_idle/bitmap: syscall entry/exit with mitigations, the file's read/write dispatch; estimate.
     */
    SYSFS_RW(400),
    /** page_idle_get_folio() for one pfn of a page_idle bitmap word (pfn_to_online_page, folio_try_get); estimate. */
    PAGE_IDLE_PFN(15),
    /**
     * One mapping an rmap walk visits (the anon_vma or i_mmap lookup, page_vma_mapped_walk to the PTE or PMD),
     * excluding the MMU notifier it calls; estimate.
     */
    RMAP_ONE(150);

    private final long defaultNs;
    private final String key;

    Cost(long defaultNs) {
        this.defaultNs = defaultNs;
        this.key = name().toLowerCase(Locale.ROOT);
    }

    /** The built-in estimate in virtual ns. */
    public long defaultNs() {
        return defaultNs;
    }

    /** The key in a cost file: the lower-case name, e.g. "rcu_grace_period". */
    public String key() {
        return key;
    }
}
