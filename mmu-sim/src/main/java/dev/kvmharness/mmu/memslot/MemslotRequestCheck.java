// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import static dev.kvmharness.mmu.memslot.Memslot.KVM_MEM_GUEST_MEMFD;
import static dev.kvmharness.mmu.memslot.Memslot.KVM_MEM_LOG_DIRTY_PAGES;
import static dev.kvmharness.mmu.memslot.Memslot.KVM_MEM_READONLY;
import static dev.kvmharness.mmu.memslot.Memslot.PAGE_SHIFT;
import static dev.kvmharness.mmu.memslot.Memslot.PAGE_SIZE;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.memslot.MemslotChange.MemslotChangeKind;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.IntFunction;

/**
 * Decides what a KVM_SET_USER_MEMORY_REGION[2] request does, or fails it with the errno Linux 6.12 returns:
 * the argument checks of kvm_vm_ioctl(), kvm_vm_ioctl_set_memory_region(), check_memory_region_flags() and
 * __kvm_set_memory_region(), the binding checks of kvm_gmem_bind() and the x86 checks of
 * kvm_arch_prepare_memory_region(), in the kernel's order. Allocation failures (ENOMEM) are not modelled.
 */
public final class MemslotRequestCheck {
    /** KVM_SET_USER_MEMORY_REGION_V1_FLAGS: the flags that need none of the v2 struct's extra fields. */
    private static final int V1_FLAGS = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;
    private static final long PAGE_MASK = PAGE_SIZE - 1;

    private MemslotRequestCheck() {
    }

    /**
     * {@link #check(MemslotRequest, MemslotLimits, IntFunction, IntFunction)} in a world where no guest_memfd
     * file exists: a KVM_MEM_GUEST_MEMFD request that gets as far as binding fails with EINVAL.
     */
    public static MemslotChange check(MemslotRequest req, MemslotLimits limits,
                                      IntFunction<List<Memslot>> slotsByAs) {
        return check(req, limits, slotsByAs, fd -> OptionalLong.empty());
    }

    /**
     * What {@code req} does to the VM's memslots, given the slots installed in each address space, or a
     * {@link SimKvmException} naming the ioctl and the errno 6.12 returns. Where several checks would fail,
     * the first in kernel order decides, as in the kernel.
     *
     * <p>The host-address check is access_ok() and nothing more: KVM accepts an aligned range below
     * USER_PTR_MAX whether or not anything is mapped there (a fault on it surfaces later, at KVM_RUN).
     *
     * @param slotsByAs the slots installed in an address space, for every as_id below
     *     {@link MemslotLimits#addressSpaces()}
     * @param guestMemfdSize the size of the guest_memfd file an fd names, empty when the fd is not a
     *     guest_memfd created on this VM (kvm_gmem_bind() then fails with EINVAL; a closed fd, EBADF in the
     *     kernel, is outside {@link KvmErrno} and not modelled)
     */
    public static MemslotChange check(MemslotRequest req, MemslotLimits limits,
                                      IntFunction<List<Memslot>> slotsByAs, IntFunction<OptionalLong> guestMemfdSize) {
        return check(req, limits, SlotView.of(slotsByAs, limits), guestMemfdSize);
    }

    /**
     * The lookups the check makes in the installed slots. {@link SlotView#of} answers them by scanning lists;
     * {@link Memslots#view()} answers them from its indexes, so a VM with thousands of slots (KVM_CAP_NR_MEMSLOTS
     * is 32764) is not checked in quadratic time.
     */
    public interface SlotView {
        /** The slot with this id in the address space, or null. */
        Memslot byId(int asId, int id);

        /** kvm_check_memslot_overlap(): a slot of the address space other than {@code id} meeting [start, end). */
        Memslot overlapping(int asId, int id, long start, long end);

        /** kvm->nr_memslot_pages: pages over every slot of every address space (unsigned long arithmetic). */
        long totalPages();

        /** The private slots bound to guest_memfd {@code fd}. */
        List<Memslot> boundTo(int fd);

        /** The view of per-address-space slot lists. */
        static SlotView of(IntFunction<List<Memslot>> slotsByAs, MemslotLimits limits) {
            return new SlotView() {
                @Override
                public Memslot byId(int asId, int id) {
                    return findById(slotsByAs.apply(asId), asId, id);
                }

                @Override
                public Memslot overlapping(int asId, int id, long start, long end) {
                    return MemslotRequestCheck.overlapping(slotsByAs.apply(asId), id, start, end);
                }

                @Override
                public long totalPages() {
                    return MemslotRequestCheck.totalPages(limits, slotsByAs);
                }

                @Override
                public List<Memslot> boundTo(int fd) {
                    return MemslotRequestCheck.boundTo(fd, limits, slotsByAs);
                }
            };
        }
    }

    /** {@link #check(MemslotRequest, MemslotLimits, IntFunction, IntFunction)} against a {@link SlotView}. */
    public static MemslotChange check(MemslotRequest req, MemslotLimits limits, SlotView view,
                                      IntFunction<OptionalLong> guestMemfdSize) {
        String call = req.ioctl();
        int flags = req.flags();
        long size = req.memorySize();
        long gpa = req.guestPhysAddr();
        long uaddr = req.userspaceAddr();
        int asId = req.asId();
        int id = req.id();

        // kvm_vm_ioctl(): the v1 struct has no room for what other flags need.
        if (!req.v2() && (flags & ~V1_FLAGS) != 0) {
            throw einval(call, "flags 0x" + Integer.toHexString(flags) + " not allowed in the v1 ioctl");
        }
        // kvm_vm_ioctl_set_memory_region(): ids past KVM_USER_MEM_SLOTS are KVM's internal slots.
        if (id >= limits.userMemSlots()) {
            throw einval(call, "slot id " + id + " >= KVM_USER_MEM_SLOTS " + limits.userMemSlots());
        }
        int invalidFlags = flags & ~validFlags(flags, limits);
        if (invalidFlags != 0) {
            throw einval(call, "flags 0x" + Integer.toHexString(invalidFlags) + " not valid with 0x"
                    + Integer.toHexString(flags) + " on this VM");
        }
        // memory_size != (unsigned long)memory_size cannot happen on a 64-bit host.
        if ((size & PAGE_MASK) != 0) {
            throw einval(call, "memory_size 0x" + Long.toHexString(size) + " not page aligned");
        }
        if ((gpa & PAGE_MASK) != 0) {
            throw einval(call, "guest_phys_addr 0x" + Long.toHexString(gpa) + " not page aligned");
        }
        // Without LAM enabled for the process untagged_addr() is the identity; with it, a tagged address is
        // still above USER_PTR_MAX (6.12 keeps it at TASK_SIZE_MAX), so access_ok() decides alone.
        if ((uaddr & PAGE_MASK) != 0) {
            throw einval(call, "userspace_addr 0x" + Long.toHexString(uaddr) + " not page aligned");
        }
        if (!accessOk(uaddr, size, limits.userPtrMax())) {
            throw einval(call, "userspace range 0x" + Long.toHexString(uaddr) + "+0x" + Long.toHexString(size)
                    + " fails access_ok() (USER_PTR_MAX 0x" + Long.toHexString(limits.userPtrMax()) + ")");
        }
        long gmemOffset = req.guestMemfdOffset();
        if ((flags & KVM_MEM_GUEST_MEMFD) != 0
                && ((gmemOffset & PAGE_MASK) != 0 || Long.compareUnsigned(gmemOffset + size, gmemOffset) < 0)) {
            throw einval(call, "guest_memfd_offset 0x" + Long.toHexString(gmemOffset) + " misaligned or wraps");
        }
        if (asId >= limits.addressSpaces() || id >= MemslotLimits.KVM_MEM_SLOTS_NUM) {
            throw einval(call, "as_id " + asId + " / id " + id + " outside " + limits.addressSpaces()
                    + " address spaces of KVM_MEM_SLOTS_NUM slots");
        }
        if (Long.compareUnsigned(gpa + size, gpa) < 0) {
            throw einval(call, "guest_phys_addr + memory_size wraps");
        }
        long npages = size >>> PAGE_SHIFT;
        if (npages > MemslotLimits.KVM_MEM_MAX_NR_PAGES) {
            throw einval(call, npages + " pages > KVM_MEM_MAX_NR_PAGES");
        }

        Memslot old = view.byId(asId, id);
        if (size == 0) {
            if (old == null) {
                throw einval(call, "delete of absent slot " + asId + ":" + id);
            }
            return new MemslotChange(MemslotChangeKind.DELETE, old, null);
        }

        long baseGfn = gpa >>> PAGE_SHIFT;
        MemslotChangeKind kind;
        if (old == null) {
            kind = MemslotChangeKind.CREATE;
            long total = view.totalPages();
            if (Long.compareUnsigned(total + npages, total) < 0) {
                throw einval(call, "total memslot pages would overflow");
            }
        } else {
            if ((flags & KVM_MEM_GUEST_MEMFD) != 0) {
                throw einval(call, "guest_memfd slots are immutable, slot " + asId + ":" + id + " exists");
            }
            if (uaddr != old.userspaceAddr() || npages != old.npages()
                    || ((flags ^ old.flags()) & (KVM_MEM_READONLY | KVM_MEM_GUEST_MEMFD)) != 0) {
                throw einval(call, "modify of " + old + " may change only gpa and dirty logging");
            }
            if (baseGfn != old.baseGfn()) {
                kind = MemslotChangeKind.MOVE;
            } else if (flags != old.flags()) {
                kind = MemslotChangeKind.FLAGS_ONLY;
            } else {
                return new MemslotChange(MemslotChangeKind.NONE, old, old);
            }
        }

        if (kind == MemslotChangeKind.CREATE || kind == MemslotChangeKind.MOVE) {
            Memslot other = view.overlapping(asId, id, baseGfn, baseGfn + npages);
            if (other != null) {
                throw new SimKvmException(call, KvmErrno.EEXIST, "gfn 0x" + Long.toHexString(baseGfn) + "+0x"
                        + Long.toHexString(npages) + " overlaps " + other);
            }
        }

        boolean gmem = (flags & KVM_MEM_GUEST_MEMFD) != 0;
        Memslot updated = new Memslot(asId, id, baseGfn, npages, uaddr, flags, gmem ? req.guestMemfd() : -1,
                gmem ? gmemOffset : 0);
        if (gmem) {
            checkGmemBind(updated, guestMemfdSize.apply(req.guestMemfd()),
                    view.boundTo(req.guestMemfd()), limits.gmemOverlapEexist());
        }

        // kvm_arch_prepare_memory_region() (x86).
        if (kind == MemslotChangeKind.MOVE && limits.externalPageTracker()) {
            throw einval(call, "cannot move a slot while an external page tracker is attached");
        }
        if ((kind == MemslotChangeKind.CREATE || kind == MemslotChangeKind.MOVE)
                && Long.compareUnsigned(baseGfn + npages - 1, limits.maxGfn()) > 0) {
            throw einval(call, "last gfn 0x" + Long.toHexString(baseGfn + npages - 1) + " > max gfn 0x"
                    + Long.toHexString(limits.maxGfn()));
        }
        return new MemslotChange(kind, old, updated);
    }

    /**
     * kvm_gmem_bind(): binding a new private slot to its guest_memfd fails with EINVAL when the fd is not a
     * guest_memfd of this VM, when the slot's pages do not fit in the file from its offset, or when any of
     * those file pages is already bound to another slot.
     *
     * @param slot the slot being created, {@link Memslot#isPrivate()}
     * @param guestMemfdSize the file's size, empty if the fd is not a guest_memfd created on this VM
     * @param bindings the slots already bound to the same file
     */
    public static void checkGmemBind(Memslot slot, OptionalLong guestMemfdSize, List<Memslot> bindings) {
        checkGmemBind(slot, guestMemfdSize, bindings, false);
    }

    /**
     * {@link #checkGmemBind(Memslot, OptionalLong, List)}, with an overlap in the file failing with EEXIST
     * when {@code overlapEexist} (the rule since the 7.2 cycle, see {@link MemslotLimits#gmemOverlapEexist()}).
     */
    public static void checkGmemBind(Memslot slot, OptionalLong guestMemfdSize, List<Memslot> bindings,
                                     boolean overlapEexist) {
        String call = MemslotRequest.V2_IOCTL;
        if (!slot.isPrivate()) {
            throw new IllegalArgumentException(slot + " has no guest_memfd to bind");
        }
        if (guestMemfdSize.isEmpty()) {
            throw einval(call, "fd " + slot.guestMemfd() + " is not a guest_memfd of this VM");
        }
        long offset = slot.guestMemfdOffset();
        long bytes = slot.npages() << PAGE_SHIFT;
        if ((offset & PAGE_MASK) != 0 || Long.compareUnsigned(offset + bytes, guestMemfdSize.getAsLong()) > 0) {
            throw einval(call, "guest_memfd range 0x" + Long.toHexString(offset) + "+0x" + Long.toHexString(bytes)
                    + " outside the file's 0x" + Long.toHexString(guestMemfdSize.getAsLong()) + " bytes");
        }
        long start = offset >>> PAGE_SHIFT;
        long end = start + slot.npages();
        for (Memslot bound : bindings) {
            long boundStart = bound.guestMemfdOffset() >>> PAGE_SHIFT;
            if (boundStart < end && start < boundStart + bound.npages()) {
                throw new SimKvmException(call, overlapEexist ? KvmErrno.EEXIST : KvmErrno.EINVAL,
                        "guest_memfd pages 0x" + Long.toHexString(start) + "..0x" + Long.toHexString(end)
                                + " already bound to " + bound);
            }
        }
    }

    /** check_memory_region_flags(): the flags this VM accepts together with {@code flags}. */
    private static int validFlags(int flags, MemslotLimits limits) {
        int valid = KVM_MEM_LOG_DIRTY_PAGES;
        if (limits.guestMemfdSupported()) {
            valid |= KVM_MEM_GUEST_MEMFD;
        }
        boolean gmem = (flags & KVM_MEM_GUEST_MEMFD) != 0;
        // No dirty logging for guest_memfd; no read-only either, since writes to read-only slots are
        // emulated MMIO and private memory cannot be.
        if (gmem) {
            valid &= ~KVM_MEM_LOG_DIRTY_PAGES;
        }
        if (limits.readonlySupported() && !gmem) {
            valid |= KVM_MEM_READONLY;
        }
        return valid;
    }

    /**
     * x86-64 access_ok() for a size that is not a compile-time constant: the end of the range must not wrap
     * and must be at most USER_PTR_MAX. Only the end is compared, so a zero-sized range checks the start.
     */
    static boolean accessOk(long addr, long size, long userPtrMax) {
        long end = addr + size;
        return Long.compareUnsigned(end, userPtrMax) <= 0 && Long.compareUnsigned(end, addr) >= 0;
    }

    private static Memslot findById(List<Memslot> slots, int asId, int id) {
        for (Memslot s : slots) {
            if (s.asId() != asId) {
                throw new IllegalArgumentException(s + " listed in address space " + asId);
            }
            if (s.id() == id) {
                return s;
            }
        }
        return null;
    }

    /** kvm_check_memslot_overlap(): another slot of the address space intersecting [start, end). */
    private static Memslot overlapping(List<Memslot> slots, int id, long start, long end) {
        for (Memslot s : slots) {
            if (s.id() != id && s.baseGfn() < end && start < s.endGfn()) {
                return s;
            }
        }
        return null;
    }

    /** kvm->nr_memslot_pages: pages over all slots of all address spaces, in unsigned long arithmetic. */
    private static long totalPages(MemslotLimits limits, IntFunction<List<Memslot>> slotsByAs) {
        long total = 0;
        for (int as = 0; as < limits.addressSpaces(); as++) {
            for (Memslot s : slotsByAs.apply(as)) {
                total += s.npages();
            }
        }
        return total;
    }

    private static List<Memslot> boundTo(int fd, MemslotLimits limits, IntFunction<List<Memslot>> slotsByAs) {
        List<Memslot> bound = new ArrayList<>();
        for (int as = 0; as < limits.addressSpaces(); as++) {
            for (Memslot s : slotsByAs.apply(as)) {
                if (s.isPrivate() && s.guestMemfd() == fd) {
                    bound.add(s);
                }
            }
        }
        return bound;
    }

    private static SimKvmException einval(String call, String why) {
        return new SimKvmException(call, KvmErrno.EINVAL, why);
    }
}
