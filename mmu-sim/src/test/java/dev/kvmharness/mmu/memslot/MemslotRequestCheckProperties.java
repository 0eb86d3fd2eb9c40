// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.memslot.MemslotChange.MemslotChangeKind;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * Random requests against random installed slot sets: the check either decides a change consistent with the
 * request and the slots, or fails with EINVAL/EEXIST, never with anything else.
 */
class MemslotRequestCheckProperties {
    private static final long PAGE = 4096;
    private static final int GMEM_FD = 7;

    /** A VM and the slots installed in it, as KVM could have left them: disjoint within each address space. */
    record World(MemslotLimits limits, List<List<Memslot>> slots) {
        List<Memslot> as(int asId) {
            return asId < slots.size() ? slots.get(asId) : List.of();
        }

        MemslotChange check(MemslotRequest req) {
            return MemslotRequestCheck.check(req, limits, this::as,
                    fd -> fd == GMEM_FD ? OptionalLong.of(256 * PAGE) : OptionalLong.empty());
        }

        World with(MemslotChange c) {
            List<List<Memslot>> copy = new ArrayList<>();
            for (List<Memslot> l : slots) {
                copy.add(new ArrayList<>(l));
            }
            if (c.old() != null) {
                copy.get(c.old().asId()).remove(c.old());
            }
            if (c.updated() != null) {
                copy.get(c.updated().asId()).add(c.updated());
            }
            return new World(limits, copy);
        }
    }

    @Provide
    Arbitrary<World> worlds() {
        Arbitrary<MemslotLimits> limits = Arbitraries.of(MemslotLimits.x86Default(36), MemslotLimits.x86Default(46),
                MemslotLimits.x86Default(52), MemslotLimits.x86SwProtected(40),
                MemslotLimits.x86Default(46).withExternalPageTracker(true),
                new MemslotLimits(32764, 1, (1L << 28) - 1, false, false, true, false));
        Arbitrary<long[]> spec = Combinators.combine(Arbitraries.longs().between(0, 64),
                Arbitraries.longs().between(1, 32), Arbitraries.longs().between(0, 7))
                .as((gap, len, flags) -> new long[] {gap, len, flags});
        return limits.flatMap(l -> spec.list().ofMaxSize(12).list().ofSize(l.addressSpaces())
                .map(specs -> new World(l, install(l, specs))));
    }

    /** Disjoint slots in each address space: walk up the gfn space with the given gaps and lengths. */
    private static List<List<Memslot>> install(MemslotLimits limits, List<List<long[]>> specsByAs) {
        List<List<Memslot>> out = new ArrayList<>();
        long gmemPage = 0;
        for (int as = 0; as < specsByAs.size(); as++) {
            List<Memslot> slots = new ArrayList<>();
            long gfn = 0;
            for (int i = 0; i < specsByAs.get(as).size(); i++) {
                long[] s = specsByAs.get(as).get(i);
                gfn += s[0];
                boolean gmem = limits.guestMemfdSupported() && (s[2] & Memslot.KVM_MEM_GUEST_MEMFD) != 0;
                int flags = gmem ? Memslot.KVM_MEM_GUEST_MEMFD
                        : (int) s[2] & (Memslot.KVM_MEM_READONLY | Memslot.KVM_MEM_LOG_DIRTY_PAGES);
                slots.add(new Memslot(as, i * 3 + 1, gfn, s[1], 0x7f0000000000L + (gfn << 12), flags,
                        gmem ? GMEM_FD : -1, gmem ? gmemPage * PAGE : 0));
                if (gmem) {
                    gmemPage += s[1];
                }
                gfn += s[1];
            }
            out.add(slots);
        }
        return out;
    }

    /** A world and a request issued in it. */
    record Case(World world, MemslotRequest req) {
    }

    /** Requests of any shape, and half the time one aimed at an installed slot (modify, move, delete). */
    @Provide
    Arbitrary<Case> cases() {
        return worlds().flatMap(w -> {
            List<Memslot> all = w.slots().stream().flatMap(List::stream).toList();
            Arbitrary<MemslotRequest> any = requests();
            if (all.isEmpty()) {
                return any.map(r -> new Case(w, r));
            }
            return Arbitraries.oneOf(any, aimedAt(all)).map(r -> new Case(w, r));
        });
    }

    private Arbitrary<MemslotRequest> aimedAt(List<Memslot> installed) {
        Arbitrary<Long> gfnShift = Arbitraries.oneOf(Arbitraries.of(0L), Arbitraries.longs().between(-40, 40));
        return Combinators.combine(Arbitraries.of(installed), gfnShift, Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(0, 9), Arbitraries.of(true, false))
                .as((s, shift, flags, what, v2) -> {
                    long gpa = Math.max(0, s.baseGfn() + shift) << 12;
                    int f = what < 3 ? s.flags() : what < 6 ? s.flags() ^ Memslot.KVM_MEM_LOG_DIRTY_PAGES : flags;
                    long size = what == 9 ? 0 : s.npages() << 12;
                    return v2 ? MemslotRequest.v2(s.userSlot(), f, gpa, size, s.userspaceAddr(), s.guestMemfdOffset(),
                            s.guestMemfd())
                            : MemslotRequest.v1(s.userSlot(), f & 3, gpa, size, s.userspaceAddr());
                });
    }

    /** Mostly well-formed requests, each field wrong now and then in one of the ways KVM cares about. */
    @Provide
    Arbitrary<MemslotRequest> requests() {
        Arbitrary<Integer> asIds = Arbitraries.frequency(Tuple.of(12, 0), Tuple.of(4, 1), Tuple.of(1, 2));
        Arbitrary<Integer> ids = mostly(Arbitraries.integers().between(0, 40),
                Arbitraries.integers().between(32760, 32767), Arbitraries.of(0xffff));
        Arbitrary<Integer> flags = mostly(Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(3, 31).map(b -> 1 << b));
        Arbitrary<Long> gpas = mostly(Arbitraries.longs().between(0, 2000).map(p -> p * PAGE),
                Arbitraries.longs().between(0, 400).map(p -> p * PAGE + 0x800),
                Arbitraries.of((1L << 36) - PAGE, 1L << 36, (1L << 46) - PAGE, (1L << 52) - PAGE, 1L << 52, -PAGE));
        Arbitrary<Long> sizes = mostly(Arbitraries.longs().between(1, 40).map(p -> p * PAGE),
                Arbitraries.of(0L, PAGE + 1, 1L << 43, (1L << 43) - PAGE, 1L << 44, -PAGE, 1L << 62));
        Arbitrary<Long> uaddrs = mostly(Arbitraries.longs().between(0, 400).map(p -> 0x7f0000000000L + p * PAGE),
                Arbitraries.of(0L, PAGE, 0x7f0000000010L, (1L << 47) - 2 * PAGE, (1L << 47) - PAGE, 1L << 47,
                        0x7f0000000000L | 1L << 57, 0xffff800000000000L, -PAGE));
        Arbitrary<Long> offsets = mostly(Arbitraries.longs().between(0, 300).map(p -> p * PAGE),
                Arbitraries.of(0x10L, -PAGE));
        Arbitrary<Integer> fds = Arbitraries.frequency(Tuple.of(5, GMEM_FD), Tuple.of(1, 3));
        return Combinators.combine(Arbitraries.of(true, false), asIds, ids, flags, gpas, sizes, uaddrs,
                Combinators.combine(offsets, fds).as((o, f) -> new long[] {o, f}))
                .as((v2, as, id, fl, gpa, size, uaddr, gm) -> v2
                        ? MemslotRequest.v2(as << 16 | id, fl, gpa, size, uaddr, gm[0], (int) gm[1])
                        : MemslotRequest.v1(as << 16 | id, fl & 3, gpa, size, uaddr));
    }

    /** {@code usual} nine times in ten, otherwise one of the odd values. */
    @SafeVarargs
    @SuppressWarnings("varargs") // List.of copies odd; nothing stores into it
    private static <T> Arbitrary<T> mostly(Arbitrary<T> usual, Arbitrary<T>... odd) {
        return Arbitraries.frequencyOf(Tuple.of(9, usual), Tuple.of(1, Arbitraries.oneOf(List.of(odd))));
    }

    @Property(tries = 1500)
    void decidesConsistentlyOrFailsWithEinvalOrEexist(@ForAll("cases") Case k) {
        World world = k.world();
        MemslotRequest req = k.req();
        MemslotChange c;
        try {
            c = world.check(req);
            Statistics.collect(c.kind().name());
        } catch (SimKvmException e) {
            Statistics.collect(e.errno().name());
            assertThat(e.errno()).isIn(KvmErrno.EINVAL, KvmErrno.EEXIST);
            assertThat(e.call()).isEqualTo(req.ioctl());
            if (e.errno() == KvmErrno.EEXIST) {
                assertThat(world.as(req.asId())).anyMatch(s -> s.id() != req.id() && overlaps(s, req));
            }
            return;
        }
        Memslot existing = world.as(req.asId()).stream().filter(s -> s.id() == req.id()).findFirst().orElse(null);
        assertThat(c.old()).isEqualTo(existing);
        if (c.kind() == MemslotChangeKind.DELETE) {
            assertThat(req.memorySize()).isZero();
            return;
        }
        Memslot n = c.updated();
        assertThat(n.asId()).isEqualTo(req.asId());
        assertThat(n.id()).isEqualTo(req.id());
        assertThat(n.baseGfn() << 12).isEqualTo(req.guestPhysAddr());
        assertThat(n.npages() << 12).isEqualTo(req.memorySize());
        assertThat(n.userspaceAddr()).isEqualTo(req.userspaceAddr());
        assertThat(n.flags()).isEqualTo(req.flags());
        assertThat(n.endGfn() - 1).isLessThanOrEqualTo(world.limits().maxGfn());
        if (c.kind() == MemslotChangeKind.CREATE || c.kind() == MemslotChangeKind.MOVE) {
            assertThat(world.as(req.asId())).noneMatch(s -> s.id() != n.id() && overlaps(s, req));
        }
        // Issued again after it took effect, a request is a no-op, except that guest_memfd slots refuse any
        // second request but a delete.
        World after = world.with(c);
        if (c.kind() == MemslotChangeKind.NONE) {
            return;
        }
        if (n.isPrivate()) {
            assertThat(rejection(after, req)).isEqualTo(KvmErrno.EINVAL);
        } else {
            assertThat(after.check(req).kind()).isEqualTo(MemslotChangeKind.NONE);
        }
    }

    /** The generators reach every outcome often enough for the property above to mean something. */
    @Property(tries = 1500)
    void everyOutcomeIsGenerated(@ForAll("cases") Case k) {
        World world = k.world();
        MemslotRequest req = k.req();
        String outcome;
        try {
            outcome = world.check(req).kind().name();
        } catch (SimKvmException e) {
            outcome = e.errno().name();
        }
        Statistics.collect(outcome);
        Statistics.coverage(cov -> {
            for (String kind : List.of("CREATE", "DELETE", "MOVE", "FLAGS_ONLY", "NONE", "EEXIST")) {
                cov.check(kind).percentage(p -> p >= 0.5);
            }
            cov.check("EINVAL").percentage(p -> p < 80);
        });
    }

    @Property(tries = 1000)
    void createNeverOverlapsAnExistingSlotOfItsAddressSpace(@ForAll("cases") Case k) {
        World world = k.world();
        MemslotRequest req = k.req();
        try {
            MemslotChange c = world.check(req);
            if (c.kind() == MemslotChangeKind.CREATE) {
                Memslot n = c.updated();
                assertThat(world.as(n.asId())).noneMatch(s -> s.id() == n.id()
                        || (s.baseGfn() < n.endGfn() && n.baseGfn() < s.endGfn()));
            }
        } catch (SimKvmException e) {
            assertThat(e.errno()).isIn(KvmErrno.EINVAL, KvmErrno.EEXIST);
        }
    }

    private static boolean overlaps(Memslot s, MemslotRequest req) {
        long base = req.guestPhysAddr() >>> 12;
        long end = base + (req.memorySize() >>> 12);
        return s.baseGfn() < end && base < s.endGfn();
    }

    /** The errno {@code req} fails with in {@code w}, null if it is accepted. */
    private static KvmErrno rejection(World w, MemslotRequest req) {
        try {
            w.check(req);
            return null;
        } catch (SimKvmException e) {
            return e.errno();
        }
    }
}
