// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

/**
 * What a VM accepts in KVM_SET_USER_MEMORY_REGION[2], as KVM reports it or as x86 KVM derives it: the
 * inputs of check_memory_region_flags(), __kvm_set_memory_region() and kvm_arch_prepare_memory_region() that
 * are not the request itself.
 *
 * @param userMemSlots KVM_USER_MEM_SLOTS, what KVM_CAP_NR_MEMSLOTS reports (32764 on x86), per address space
 * @param addressSpaces kvm_arch_nr_memslot_as_ids(): 2 on x86 with SMM, 1 without SMM or for a private VM
 *     (what KVM_CAP_MULTI_ADDRESS_SPACE reports, 0 there meaning 1)
 * @param maxGfn kvm_mmu_max_gfn(): 2^(MAXPHYADDR - 12) - 1 with the host's MAXPHYADDR under TDP (EPT/NPT),
 *     with 52 bits under shadow paging
 * @param readonlySupported kvm_arch_has_readonly_mem(): false only for VMs with protected state
 *     (SEV-ES, SNP, TDX); KVM_CAP_READONLY_MEM on the VM fd
 * @param privateMemVm kvm_arch_has_private_mem(), e.g. KVM_X86_SW_PROTECTED_VM
 * @param guestMemfdSupported KVM_CAP_GUEST_MEMFD on the VM fd, which is the very condition under which
 *     check_memory_region_flags() accepts KVM_MEM_GUEST_MEMFD: kvm_arch_has_private_mem() in 6.12,
 *     kvm_arch_supports_gmem() in later kernels (which accept guest_memfd on ordinary VMs too)
 * @param memAttributesSupported KVM_CAP_MEMORY_ATTRIBUTES is non-zero; no memslot check depends on it, the
 *     MMU side reads it
 * @param userPtrMax USER_PTR_MAX, the highest end access_ok() allows: TASK_SIZE_MAX, 2^47 - 4096 with 4-level
 *     paging, 2^56 - 4096 with 5-level paging
 * @param externalPageTracker kvm_page_track_has_external_user() (KVMGT attached), which forbids moves
 * @param gmemOverlapEexist kvm_gmem_bind() fails a binding that overlaps another slot's file range with EEXIST,
 *     as since the 7.2 cycle (kvm-x86 36a062568ea8, with the set_memory_region_test case for it); false is the
 *     EINVAL of 6.12 up to that change
 */
public record MemslotLimits(int userMemSlots, int addressSpaces, long maxGfn, boolean readonlySupported,
                            boolean privateMemVm, boolean guestMemfdSupported, boolean memAttributesSupported,
                            long userPtrMax, boolean externalPageTracker, boolean gmemOverlapEexist) {
    /** KVM_USER_MEM_SLOTS on x86: SHRT_MAX minus the 3 internal slots (APIC access, identity map, TSS). */
    public static final int X86_USER_MEM_SLOTS = 32764;
    /** KVM_MEM_SLOTS_NUM: SHRT_MAX. */
    public static final int KVM_MEM_SLOTS_NUM = Short.MAX_VALUE;
    /** KVM_MEM_MAX_NR_PAGES: a slot's page count must fit in 31 bits. */
    public static final long KVM_MEM_MAX_NR_PAGES = (1L << 31) - 1;
    /** TASK_SIZE_MAX with 4-level paging. */
    public static final long USER_PTR_MAX_4LEVEL = (1L << 47) - Memslot.PAGE_SIZE;
    /** TASK_SIZE_MAX with 5-level paging. */
    public static final long USER_PTR_MAX_5LEVEL = (1L << 56) - Memslot.PAGE_SIZE;
    /** The MAXPHYADDR kvm_mmu_max_gfn() assumes when TDP is off. */
    public static final int SHADOW_PAGING_PHYS_BITS = 52;

    public MemslotLimits {
        if (userMemSlots < 0 || userMemSlots > KVM_MEM_SLOTS_NUM) {
            throw new IllegalArgumentException("userMemSlots " + userMemSlots);
        }
        if (addressSpaces < 1 || addressSpaces > 0xffff) {
            throw new IllegalArgumentException("addressSpaces " + addressSpaces);
        }
        if (maxGfn < 0) {
            throw new IllegalArgumentException("maxGfn " + maxGfn);
        }
        if (privateMemVm && !guestMemfdSupported) {
            throw new IllegalArgumentException("a private-memory VM always takes guest_memfd slots");
        }
        if (userPtrMax <= 0) {
            throw new IllegalArgumentException("userPtrMax " + userPtrMax);
        }
    }

    /** Without the 7.2 rule: an overlapping guest_memfd binding is EINVAL, as in 6.12. */
    public MemslotLimits(int userMemSlots, int addressSpaces, long maxGfn, boolean readonlySupported,
                         boolean privateMemVm, boolean guestMemfdSupported, boolean memAttributesSupported,
                         long userPtrMax, boolean externalPageTracker) {
        this(userMemSlots, addressSpaces, maxGfn, readonlySupported, privateMemVm, guestMemfdSupported,
                memAttributesSupported, userPtrMax, externalPageTracker, false);
    }

    /** The record as first specified: 4-level paging, no external page tracker. */
    public MemslotLimits(int userMemSlots, int addressSpaces, long maxGfn, boolean readonlySupported,
                         boolean privateMemVm, boolean guestMemfdSupported, boolean memAttributesSupported) {
        this(userMemSlots, addressSpaces, maxGfn, readonlySupported, privateMemVm, guestMemfdSupported,
                memAttributesSupported, USER_PTR_MAX_4LEVEL, false);
    }

    /**
     * A KVM_X86_DEFAULT_VM under TDP on a host with {@code physBits} of MAXPHYADDR (pass
     * {@link #SHADOW_PAGING_PHYS_BITS} for a shadow-paging host): 32764 slots in each of 2 address spaces,
     * read-only slots, no private memory, 4-level paging.
     */
    public static MemslotLimits x86Default(int physBits) {
        return new MemslotLimits(X86_USER_MEM_SLOTS, 2, maxGfnForPhysBits(physBits), true, false, false, false);
    }

    /**
     * A KVM_X86_SW_PROTECTED_VM: private memory through guest_memfd, memory attributes, and therefore only
     * one address space (no SMM); read-only slots stay allowed because its state is not protected.
     */
    public static MemslotLimits x86SwProtected(int physBits) {
        return new MemslotLimits(X86_USER_MEM_SLOTS, 1, maxGfnForPhysBits(physBits), true, true, true, true);
    }

    /** kvm_mmu_max_gfn() for a MAXPHYADDR of {@code physBits}. */
    public static long maxGfnForPhysBits(int physBits) {
        if (physBits <= Memslot.PAGE_SHIFT || physBits > 63) {
            throw new IllegalArgumentException("physBits " + physBits);
        }
        return (1L << (physBits - Memslot.PAGE_SHIFT)) - 1;
    }

    public MemslotLimits withUserPtrMax(long max) {
        return new MemslotLimits(userMemSlots, addressSpaces, maxGfn, readonlySupported, privateMemVm,
                guestMemfdSupported, memAttributesSupported, max, externalPageTracker, gmemOverlapEexist);
    }

    public MemslotLimits withExternalPageTracker(boolean tracker) {
        return new MemslotLimits(userMemSlots, addressSpaces, maxGfn, readonlySupported, privateMemVm,
                guestMemfdSupported, memAttributesSupported, userPtrMax, tracker, gmemOverlapEexist);
    }

    public MemslotLimits withGmemOverlapEexist(boolean eexist) {
        return new MemslotLimits(userMemSlots, addressSpaces, maxGfn, readonlySupported, privateMemVm,
                guestMemfdSupported, memAttributesSupported, userPtrMax, externalPageTracker, eexist);
    }
}
