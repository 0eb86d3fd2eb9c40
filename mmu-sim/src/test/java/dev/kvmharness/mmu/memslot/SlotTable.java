// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * A test VM's memslots per address space plus its guest_memfd files: the state a request is checked
 * against, updated with each accepted change the way kvm_set_memslot() would leave it.
 */
final class SlotTable {
    final MemslotLimits limits;
    private final Map<Integer, List<Memslot>> byAs = new TreeMap<>();
    private final Map<Integer, Long> gmemSizes = new TreeMap<>();

    SlotTable(MemslotLimits limits) {
        this.limits = limits;
    }

    List<Memslot> slots(int asId) {
        return List.copyOf(byAs.getOrDefault(asId, List.of()));
    }

    SlotTable install(Memslot s) {
        byAs.computeIfAbsent(s.asId(), k -> new ArrayList<>()).add(s);
        return this;
    }

    SlotTable guestMemfd(int fd, long size) {
        gmemSizes.put(fd, size);
        return this;
    }

    MemslotChange check(MemslotRequest req) {
        return MemslotRequestCheck.check(req, limits, this::slots,
                fd -> gmemSizes.containsKey(fd) ? OptionalLong.of(gmemSizes.get(fd)) : OptionalLong.empty());
    }

    /** Checks and, if accepted, applies. */
    MemslotChange apply(MemslotRequest req) {
        MemslotChange c = check(req);
        if (c.old() != null) {
            byAs.get(c.old().asId()).remove(c.old());
        }
        if (c.updated() != null) {
            install(c.updated());
        }
        return c;
    }
}
