// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

/**
 * One installed memslot: the parts of {@code struct kvm_memory_slot} the simulator needs. A slot covers the
 * guest frames {@code [baseGfn, baseGfn + npages)} and maps them linearly onto host virtual memory from
 * {@code userspaceAddr} (and, for a private slot, onto its guest_memfd from {@code guestMemfdOffset}).
 *
 * @param asId address space (0, or 1 for SMM on x86)
 * @param id slot id within the address space
 * @param baseGfn first guest frame number
 * @param npages number of 4 KiB pages, at least 1 (KVM never installs an empty slot)
 * @param userspaceAddr host virtual address of the first page
 * @param flags {@code KVM_MEM_*} flags as userspace set them
 * @param guestMemfd the guest_memfd file descriptor bound to the slot, -1 if none
 * @param guestMemfdOffset byte offset of the slot's first page in its guest_memfd (0 if none)
 */
public record Memslot(int asId, int id, long baseGfn, long npages, long userspaceAddr, int flags,
                      int guestMemfd, long guestMemfdOffset) {
    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** KVM_MEM_LOG_DIRTY_PAGES (uapi kvm.h). */
    public static final int KVM_MEM_LOG_DIRTY_PAGES = 1;
    /** KVM_MEM_READONLY (uapi kvm.h). */
    public static final int KVM_MEM_READONLY = 1 << 1;
    /** KVM_MEM_GUEST_MEMFD (uapi kvm.h). */
    public static final int KVM_MEM_GUEST_MEMFD = 1 << 2;

    public Memslot {
        if (npages <= 0) {
            throw new IllegalArgumentException("a memslot has at least one page, got " + npages);
        }
        if (asId < 0 || asId > 0xffff || id < 0 || id > 0xffff) {
            throw new IllegalArgumentException("as_id " + asId + " / id " + id + " outside 16 bits");
        }
        if (baseGfn < 0 || baseGfn + npages < baseGfn) {
            throw new IllegalArgumentException("gfn range 0x" + Long.toHexString(baseGfn) + " + " + npages + " wraps");
        }
    }

    /** One past the last gfn of the slot. */
    public long endGfn() {
        return baseGfn + npages;
    }

    public boolean contains(long gfn) {
        return gfn >= baseGfn && gfn < endGfn();
    }

    /**
     * __gfn_to_hva_memslot(): the host address backing {@code gfn}. KVM calls it only for gfns already found in
     * the slot, so a gfn outside it is a caller bug here.
     */
    public long gfnToHva(long gfn) {
        if (!contains(gfn)) {
            throw new IllegalArgumentException("gfn 0x" + Long.toHexString(gfn) + " outside " + this);
        }
        return userspaceAddr + ((gfn - baseGfn) << PAGE_SHIFT);
    }

    /** kvm_slot_dirty_track_enabled(). */
    public boolean dirtyLogging() {
        return (flags & KVM_MEM_LOG_DIRTY_PAGES) != 0;
    }

    public boolean readOnly() {
        return (flags & KVM_MEM_READONLY) != 0;
    }

    /** kvm_slot_can_be_private(): the slot is bound to a guest_memfd. */
    public boolean isPrivate() {
        return (flags & KVM_MEM_GUEST_MEMFD) != 0;
    }

    /** The slot number as userspace passes it: as_id << 16 | id. */
    public int userSlot() {
        return asId << 16 | id;
    }

    @Override
    public String toString() {
        return "memslot " + asId + ":" + id + " gfn 0x" + Long.toHexString(baseGfn) + "+0x" + Long.toHexString(npages)
                + " hva 0x" + Long.toHexString(userspaceAddr) + " flags 0x" + Integer.toHexString(flags)
                + (isPrivate() ? " gmem " + guestMemfd + "@0x" + Long.toHexString(guestMemfdOffset) : "");
    }
}
