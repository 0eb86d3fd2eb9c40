// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

/**
 * The argument of KVM_SET_USER_MEMORY_REGION2 ({@code struct kvm_userspace_memory_region2}); a v1 request
 * (KVM_SET_USER_MEMORY_REGION, {@code struct kvm_userspace_memory_region}) is the same with the guest_memfd
 * fields zero, because kvm_vm_ioctl() zeroes the v2 struct before copying the shorter v1 one into it.
 * All fields hold the raw bits userspace passed; u64 fields are compared unsigned by the check.
 *
 * @param v2 issued as KVM_SET_USER_MEMORY_REGION2
 * @param slot as_id << 16 | id
 * @param flags {@code KVM_MEM_*}, any of the 32 bits
 * @param guestPhysAddr guest_phys_addr
 * @param memorySize memory_size; 0 deletes the slot
 * @param userspaceAddr userspace_addr
 * @param guestMemfdOffset guest_memfd_offset (v2 only)
 * @param guestMemfd guest_memfd (v2 only)
 */
public record MemslotRequest(boolean v2, int slot, int flags, long guestPhysAddr, long memorySize,
                             long userspaceAddr, long guestMemfdOffset, int guestMemfd) {
    public static final String V1_IOCTL = "KVM_SET_USER_MEMORY_REGION";
    public static final String V2_IOCTL = "KVM_SET_USER_MEMORY_REGION2";

    public MemslotRequest {
        if (!v2 && (guestMemfdOffset != 0 || guestMemfd != 0)) {
            throw new IllegalArgumentException("a v1 request has no guest_memfd fields");
        }
    }

    public static MemslotRequest v1(int slot, int flags, long gpa, long size, long uaddr) {
        return new MemslotRequest(false, slot, flags, gpa, size, uaddr, 0, 0);
    }

    public static MemslotRequest v2(int slot, int flags, long gpa, long size, long uaddr, long guestMemfdOffset,
                                    int guestMemfd) {
        return new MemslotRequest(true, slot, flags, gpa, size, uaddr, guestMemfdOffset, guestMemfd);
    }

    /** A v2 request without guest_memfd. */
    public static MemslotRequest v2(int slot, int flags, long gpa, long size, long uaddr) {
        return v2(slot, flags, gpa, size, uaddr, 0, 0);
    }

    /** as_id as __kvm_set_memory_region() derives it: the upper 16 bits of the u32 slot. */
    public int asId() {
        return slot >>> 16;
    }

    /** id as __kvm_set_memory_region() derives it: the lower 16 bits. */
    public int id() {
        return slot & 0xffff;
    }

    /** The ioctl's name, as a failure reports it. */
    public String ioctl() {
        return v2 ? V2_IOCTL : V1_IOCTL;
    }

    @Override
    public String toString() {
        return ioctl() + "(slot " + asId() + ":" + id() + " flags 0x" + Integer.toHexString(flags) + " gpa 0x"
                + Long.toHexString(guestPhysAddr) + " size 0x" + Long.toHexString(memorySize) + " uaddr 0x"
                + Long.toHexString(userspaceAddr)
                + (v2 ? " gmem " + guestMemfd + "@0x" + Long.toHexString(guestMemfdOffset) : "") + ")";
    }
}
