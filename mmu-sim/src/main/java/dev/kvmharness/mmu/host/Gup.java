// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * What KVM's {@code hva_to_pfn()} asks of the host (mm/gup.c): {@code get_user_pages()} for one page, with
 * and without {@code FOLL_NOWAIT}, which faults the page in through {@link MemoryFault} and then follows the
 * page table to the pfn ({@code follow_page_mask()}); and the fault-free reads KVM does of the host page
 * tables, {@code host_pfn_mapping_level()} and a {@code follow_pfn()}-like peek.
 */
final class Gup {
    private final HostPageTable pt;
    private final MemoryFault faults;

    Gup(HostPageTable pt, MemoryFault faults) {
        this.pt = pt;
        this.faults = faults;
    }

    /**
     * {@code __get_user_pages()} for one page: faults hva in if needed, then follows the page table to the
     * pfn; null if {@code noWait} and a userfaultfd would have to resolve it. Small, so that it inlines into
     * KVM's caller and the result is scalar-replaced: the fault path allocates nothing for it.
     */
    FaultResult getUserPage(long hva, boolean write, boolean noWait) {
        Vma vma = faults.fault(hva, write, noWait, false, "get_user_pages");
        if (vma == null) {
            return null;
        }
        return new FaultResult(faults.leafPfn(), faults.leafLevel(), vma.writable);
    }

    /** {@code host_pfn_mapping_level()}: the leaf's {@code enum pg_level}, or {@code PG_LEVEL_NONE}. */
    int mappingLevel(long hva) {
        return pt.walk(hva).level;
    }

    /** The pfn mapped at hva without faulting, or -1. */
    long pfnIfMapped(long hva) {
        PageWalk w = pt.walk(hva);
        return w.mapped() ? w.pfn() : -1;
    }
}
