// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;

/**
 * memstress_guest_code(): each pass touches every page of the vCPU's slice once, in order or in random
 * order, writing 0x0123456789ABCDEF or reading per write_percent, then GUEST_SYNC(1); forever.
 *
 * <p>Argument registers (set per vCPU by {@link Memstress}): 0 gva of the slice, 1 pages in it, 2 guest page
 * size, 3 write percent, 4 random seed (global seed + vCPU index), 5 random access (0 or 1).
 */
public final class MemstressGuest {
    public static final long WRITE_PATTERN = 0x0123456789ABCDEFL;
    /** Park–Miller minimal standard generator (guest_random_u32): seed = seed * 48271 mod (2^31 − 1). */
    static final long LCG_MULTIPLIER = 48271;
    static final long LCG_MODULUS = 0x7fffffffL;

    public static final GuestProgram PROGRAM = GuestProgram.define("memstress_guest_code", MemstressGuest::body);

    private MemstressGuest() {
    }

    private static void body(GuestBuilder g) {
        Reg gva = g.arg(0);
        Reg pages = g.arg(1);
        Reg pageSize = g.arg(2);
        Reg writePercent = g.arg(3);
        Reg rand = g.arg(4);
        Reg randomAccess = g.arg(5);
        Reg i = g.temp();
        Reg page = g.temp();
        Reg addr = g.temp();
        Reg roll = g.temp();
        Reg pattern = g.temp();

        g.mov(pattern, WRITE_PATTERN);
        g.loop(() -> {
            g.mov(i, 0);
            g.whileTrue(Cond.ULT, i, pages, () -> {
                g.mov(page, i);
                g.ifTrue(Cond.NE, randomAccess, 0, () -> {
                    nextRandom(g, rand);
                    g.mov(page, rand);
                    g.urem(page, pages);
                });
                g.mov(addr, page);
                g.mul(addr, pageSize);
                g.add(addr, gva);
                // __guest_random_bool(): one draw per access, even at 100% writes, as in C.
                nextRandom(g, rand);
                g.mov(roll, rand);
                g.urem(roll, 100);
                g.ifElse(Cond.ULT, roll, writePercent, () -> g.store64(addr, 0, pattern), () -> g.load64(roll, addr, 0));
                g.add(i, 1);
            });
            g.sync(1);
        });
    }

    private static void nextRandom(GuestBuilder g, Reg state) {
        g.mul(state, LCG_MULTIPLIER);
        g.urem(state, LCG_MODULUS);
    }
}
