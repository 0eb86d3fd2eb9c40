// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.spte.Spte;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * struct kvm_memslots, one per address space, as the readers see them: lookup by gfn (including slots
 * temporarily marked KVM_MEMSLOT_INVALID during a delete or move), the generation (bit 63 set while an update
 * is in flight, then advanced by the number of address spaces), each slot's dirty bitmap, and the huge page
 * rules of lpage_info. Updates go through {@link MemslotUpdate}.
 */
public final class Memslots {
    /** KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS. */
    public static final long GEN_UPDATE_IN_PROGRESS = 1L << 63;
    public static final int ADDRESS_SPACES = 2;

    private final SimKvm kvm;
    private final AddressSpace[] spaces = new AddressSpace[ADDRESS_SPACES];
    private final Map<Memslot, long[]> dirtyBitmaps = new HashMap<>();
    private final Set<Memslot> invalid = new HashSet<>();
    /** kvm->nr_memslot_pages, kept as slots come and go. */
    private long totalPages;

    /** One address space's slots. */
    private static final class AddressSpace {
        final TreeMap<Long, Memslot> byBaseGfn = new TreeMap<>();
        final Map<Integer, Memslot> byId = new HashMap<>();
        /** By userspace address (the kernel's hva interval tree); aliases may share one. */
        final TreeMap<Long, List<Memslot>> byHva = new TreeMap<>();
        /** The largest slot ever installed, in bytes: bounds how far below a range a meeting slot can start. */
        long maxBytes;
        long generation;
        Memslot lastHit;
    }

    public Memslots(SimKvm kvm) {
        this.kvm = kvm;
        for (int i = 0; i < ADDRESS_SPACES; i++) {
            spaces[i] = new AddressSpace();
            spaces[i].generation = i;
        }
    }

    /** The slot covering {@code gfn} in address space {@code asId} (possibly one marked invalid), or null. */
    public Memslot lookup(int asId, long gfn) {
        AddressSpace as = spaces[asId];
        // search_memslots() starts from the last slot found, as the kernel's lookup cache does.
        Memslot last = as.lastHit;
        if (last != null && gfn >= last.baseGfn() && gfn < last.baseGfn() + last.npages()) {
            return last;
        }
        Memslot s = search(as, gfn);
        if (s != null) {
            as.lastHit = s;
        }
        return s;
    }

    /**
     * {@link #lookup} without its cache: neither reads nor moves the last-hit slot, so a checker's lookups leave
     * the model's search as they found it.
     */
    public Memslot find(int asId, long gfn) {
        return search(spaces[asId], gfn);
    }

    private static Memslot search(AddressSpace as, long gfn) {
        Map.Entry<Long, Memslot> e = as.byBaseGfn.floorEntry(gfn);
        if (e == null) {
            return null;
        }
        Memslot s = e.getValue();
        return gfn < s.baseGfn() + s.npages() ? s : null;
    }

    /** The slot with this id, or null. */
    public Memslot byId(int asId, int id) {
        return spaces[asId].byId.get(id);
    }

    /** Every slot in one address space, by base gfn. */
    public List<Memslot> slots(int asId) {
        return new ArrayList<>(spaces[asId].byBaseGfn.values());
    }

    /**
     * kvm_for_each_memslot_in_hva_range(): the slots of one address space whose host range meets
     * [{@code start}, {@code end}), by base gfn as {@link #slots} lists them, found through the hva index.
     */
    public List<Memslot> slotsInHvaRange(int asId, long start, long end) {
        AddressSpace as = spaces[asId];
        List<Memslot> out = new ArrayList<>();
        for (List<Memslot> l : as.byHva.subMap(start - as.maxBytes, false, end, false).values()) {
            for (Memslot s : l) {
                if (s.userspaceAddr() + (s.npages() << 12) > start) {
                    out.add(s);
                }
            }
        }
        if (out.size() > 1) {
            out.sort(java.util.Comparator.comparingLong(Memslot::baseGfn));
        }
        return out;
    }

    /**
     * The installed slots as {@link MemslotRequestCheck} looks them up, from the indexes: by id, the
     * neighbours of a gfn range (slots of one address space never overlap, so at most the two nearest below
     * the range's end can meet it), the page total.
     */
    public MemslotRequestCheck.SlotView view() {
        return new MemslotRequestCheck.SlotView() {
            @Override
            public Memslot byId(int asId, int id) {
                return asId < ADDRESS_SPACES ? spaces[asId].byId.get(id) : null;
            }

            @Override
            public Memslot overlapping(int asId, int id, long start, long end) {
                if (asId >= ADDRESS_SPACES || end <= start) {
                    return null;
                }
                for (Map.Entry<Long, Memslot> e = spaces[asId].byBaseGfn.floorEntry(end - 1); e != null;
                     e = spaces[asId].byBaseGfn.lowerEntry(e.getKey())) {
                    Memslot s = e.getValue();
                    if (s.endGfn() <= start) {
                        return null;
                    }
                    if (s.id() != id) {
                        return s;
                    }
                }
                return null;
            }

            @Override
            public long totalPages() {
                return totalPages;
            }

            @Override
            public List<Memslot> boundTo(int fd) {
                List<Memslot> out = new ArrayList<>();
                for (AddressSpace as : spaces) {
                    for (Memslot s : as.byId.values()) {
                        if (s.isPrivate() && s.guestMemfd() == fd) {
                            out.add(s);
                        }
                    }
                }
                return out;
            }
        };
    }

    /** Number of slots across all address spaces. */
    public int count() {
        int n = 0;
        for (AddressSpace as : spaces) {
            n += as.byId.size();
        }
        return n;
    }

    public boolean isInvalid(Memslot slot) {
        return !invalid.isEmpty() && invalid.contains(slot);
    }

    /** The address space's generation; negative (bit 63 set) while an update is in flight. */
    public long generation(int asId) {
        return spaces[asId].generation;
    }

    /**
     * The lpage_info check: a huge page at {@code level} covering {@code gfn} must lie wholly inside the slot,
     * and the slot's gfn and host address must be equally aligned modulo the huge page size.
     */
    public boolean lpageAllowed(Memslot slot, long gfn, int level) {
        long pages = Spte.pagesPerEntry(level);
        long base = Spte.alignDown(gfn, level);
        if (base < slot.baseGfn() || base + pages > slot.baseGfn() + slot.npages()) {
            return false;
        }
        return ((slot.baseGfn() ^ (slot.userspaceAddr() >>> 12)) & (pages - 1)) == 0;
    }

    // ---------------------------------------------------------------- dirty bitmaps

    /** mark_page_dirty_in_slot(). */
    public void markDirty(Memslot slot, long gfn) {
        long[] bm = dirtyBitmaps.get(slot);
        if (bm == null) {
            return;
        }
        long rel = gfn - slot.baseGfn();
        bm[(int) (rel >>> 6)] |= 1L << (rel & 63);
    }

    /** The slot's dirty bitmap (live, not a copy), or null if it is not logging. */
    public long[] dirtyBitmap(Memslot slot) {
        return dirtyBitmaps.get(slot);
    }

    // ---------------------------------------------------------------- updates (MemslotUpdate only)

    /**
     * kvm_swap_active_memslots(): publishes a change. The generation gets the in-progress bit, readers are
     * waited for (synchronize_srcu), then it advances by the number of address spaces.
     */
    void swap(int asId, Memslot remove, Memslot add, boolean addInvalid) {
        AddressSpace as = spaces[asId];
        as.generation |= GEN_UPDATE_IN_PROGRESS;
        as.lastHit = null;
        if (remove != null) {
            as.byBaseGfn.remove(remove.baseGfn());
            as.byId.remove(remove.id());
            List<Memslot> atHva = as.byHva.get(remove.userspaceAddr());
            if (atHva != null) {
                atHva.remove(remove);
                if (atHva.isEmpty()) {
                    as.byHva.remove(remove.userspaceAddr());
                }
            }
            invalid.remove(remove);
            totalPages -= remove.npages();
        }
        if (add != null) {
            as.byBaseGfn.put(add.baseGfn(), add);
            as.byId.put(add.id(), add);
            as.byHva.computeIfAbsent(add.userspaceAddr(), k -> new ArrayList<>(1)).add(add);
            as.maxBytes = Math.max(as.maxBytes, add.npages() << 12);
            totalPages += add.npages();
            if (addInvalid) {
                invalid.add(add);
            }
        }
        kvm.sched().charge(Cost.MEMSLOT_SWAP);
        // synchronize_srcu_expedited(): a vCPU still handling a fault with the old slots finishes first, so
        // what follows the swap (write-protecting a slot that starts dirty logging, zapping a deleted one)
        // cannot be undone by a fault that looked the old slot up.
        kvm.srcu().synchronize();
        kvm.sched().charge(Cost.SRCU_SYNC);
        as.generation = (as.generation & ~GEN_UPDATE_IN_PROGRESS) + ADDRESS_SPACES;
    }

    /** Hands the dirty bitmap from the old slot to its replacement, allocating it when logging starts. */
    void moveDirtyBitmap(Memslot from, Memslot to) {
        long[] bm = from == null ? null : dirtyBitmaps.remove(from);
        if (to != null && to.dirtyLogging()) {
            if (bm == null) {
                bm = new long[(int) ((to.npages() + 63) >>> 6)];
                if (kvm.manualDirtyLogProtect() && kvm.dirtyLogInitiallySet()) {
                    Arrays.fill(bm, -1L);
                }
            }
            dirtyBitmaps.put(to, bm);
        }
    }
}
