// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.util.Collection;
import java.util.TreeMap;

/**
 * A VM's memslots as lib/kvm_util.c keeps them (vm->regions): by slot, with the same checks before a region
 * is added and the same gpa lookups (memslot2region, addr_gpa2hva, addr_gpa2alias), for either backend.
 *
 * @param <R> the backend's region type
 */
public final class MemRegions<R extends MemRegion> {
    private final TreeMap<Integer, R> bySlot = new TreeMap<>();
    /** The same regions by base gpa (they never overlap), so a lookup stays cheap with 32k memslots. */
    private final TreeMap<Long, R> byGpa = new TreeMap<>();

    /** vm_userspace_mem_region_add()'s checks: the slot is free and [gpa, gpa + size) overlaps no region. */
    public void checkNew(int slot, long gpa, long size, long npages) {
        TestAssertionFailure.check(!bySlot.containsKey(slot), "!regions.containsKey(slot)",
                "A mem region with the requested slot already exists.\n  requested slot: %d", slot);
        // Regions never overlap, so only the one starting at or below gpa and the next one above can.
        var below = byGpa.floorEntry(gpa);
        var above = byGpa.higherEntry(gpa);
        for (var e : java.util.Arrays.asList(below, above)) {
            if (e == null) {
                continue;
            }
            R r = e.getValue();
            TestAssertionFailure.check(gpa + size <= r.gpa() || r.gpa() + r.size() <= gpa, "no overlap",
                    "overlapping userspace_mem_region already exists\n  requested gpa: 0x%x npages: 0x%x\n"
                            + "  existing slot: %d gpa: 0x%x size: 0x%x", gpa, npages, r.slot(), r.gpa(), r.size());
        }
    }

    public void put(R region) {
        R old = bySlot.put(region.slot(), region);
        if (old != null) {
            byGpa.remove(old.gpa(), old);
        }
        byGpa.put(region.gpa(), region);
    }

    /** Forgets {@code slot} (vm_mem_region_delete()); returns the region it held. */
    public R remove(int slot) {
        R r = slot(slot);
        bySlot.remove(slot);
        byGpa.remove(r.gpa(), r);
        return r;
    }

    /** memslot2region(). */
    public R slot(int slot) {
        R r = bySlot.get(slot);
        if (r == null) {
            throw new IllegalArgumentException("no memslot " + slot);
        }
        return r;
    }

    /** The region holding {@code gpa}; a test failure if none does. */
    public R of(long gpa) {
        var e = byGpa.floorEntry(gpa);
        if (e != null) {
            R r = e.getValue();
            if (gpa - r.gpa() < r.size()) {
                return r;
            }
        }
        throw new TestAssertionFailure("No vm physical memory at 0x" + Long.toHexString(gpa));
    }

    /** addr_gpa2hva(). */
    public long hva(long gpa) {
        R r = of(gpa);
        return r.hva() + (gpa - r.gpa());
    }

    /** addr_gpa2alias(): 0 for regions without an alias mapping. */
    public long alias(long gpa) {
        R r = of(gpa);
        return r.alias() == 0 ? 0 : r.alias() + (gpa - r.gpa());
    }

    public Collection<R> all() {
        return bySlot.values();
    }
}
