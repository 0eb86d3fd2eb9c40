// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.Reg;

/**
 * memstress_guest_code(): each pass first reads every page of memstress_args, then touches every page of the
 * vCPU's slice once, in order or in random order, writing 0x0123456789ABCDEF or reading per write_percent, then
 * GUEST_SYNC(1); forever. Like the C guest it reads its parameters from memstress_args in guest memory on every
 * access, so the host can change them between passes and the guest's memory traffic matches the original.
 *
 * <p>Argument registers: 0 the gva of memstress_args ({@link MemstressArgs}), 1 this vCPU's index.
 */
public final class MemstressGuest {
    public static final long WRITE_PATTERN = 0x0123456789ABCDEFL;
    /** Park–Miller minimal standard generator (guest_random_u32): seed = seed * 48271 mod (2^31 − 1). */
    static final long LCG_MULTIPLIER = 48271;
    static final long LCG_MODULUS = 0x7fffffffL;
    private static final long PAGE_SIZE = 4096;

    public static final GuestProgram PROGRAM = GuestProgram.define("memstress_guest_code", g -> body(g, false));

    /**
     * The same guest, timing each access from inside: {@code lfence; rdtsc} before and after it, the difference
     * stored as a u64 at {@code vcpu_args->latency_buf[i]} (TSC ticks; the host converts with {@code tscKhz}).
     * Before its first pass it writes every page of that buffer, so storing a latency never faults; the rest
     * (args reads, the random draws, the write pattern) is {@link #PROGRAM}'s, instruction for instruction.
     * Not in the C test, which only reports a total: {@link #PROGRAM} stays the one used when timing is off.
     */
    public static final GuestProgram TIMED_PROGRAM = GuestProgram.define("memstress_guest_code_timed",
            g -> body(g, true));

    private MemstressGuest() {
    }

    private static void body(GuestBuilder g, boolean timed) {
        Reg args = g.arg(0);
        Reg vcpuIdx = g.arg(1);
        Reg vcpuArgs = g.temp();
        Reg gva = g.temp();
        Reg pages = g.temp();
        Reg rand = g.temp();
        Reg i = g.temp();
        Reg addr = g.temp();
        Reg tmp = g.temp();
        Reg argsSize = g.temp();
        Reg percent = g.temp();
        Reg latBuf = timed ? g.temp() : null;
        Reg t0 = timed ? g.temp() : null;

        // vcpu_args = &args->vcpu_args[vcpu_idx]
        g.mov(vcpuArgs, vcpuIdx);
        g.mul(vcpuArgs, MemstressArgs.VCPU_ARGS_SIZE);
        g.add(vcpuArgs, args);
        g.add(vcpuArgs, MemstressArgs.OFF_VCPU_ARGS);
        // rand_state = new_guest_random_state(guest_random_seed + vcpu_idx)
        g.load64(rand, args, MemstressArgs.OFF_RANDOM_SEED);
        g.add(rand, vcpuIdx);
        g.and(rand, 0xffffffffL);
        g.load64(gva, vcpuArgs, MemstressArgs.VCPU_OFF_GVA);
        g.load64(pages, vcpuArgs, MemstressArgs.VCPU_OFF_PAGES);
        g.load64(tmp, vcpuArgs, MemstressArgs.VCPU_OFF_IDX);
        g.guestAssert(Cond.EQ, tmp, vcpuIdx, "vcpu_args->vcpu_idx == vcpu_idx");
        if (timed) {
            // Fault in the latency buffer before anything is timed.
            g.load64(latBuf, vcpuArgs, MemstressArgs.VCPU_OFF_LATENCY_BUF);
            g.mov(argsSize, pages);
            g.mul(argsSize, 8);
            g.mov(i, 0);
            g.mov(tmp, 0);
            g.whileTrue(Cond.ULT, i, argsSize, () -> {
                g.mov(addr, latBuf);
                g.add(addr, i);
                g.store64(addr, 0, tmp);
                g.add(i, PAGE_SIZE);
            });
        }

        g.loop(() -> {
            // Fault in memstress_args itself before the measured accesses.
            g.load64(argsSize, args, MemstressArgs.OFF_SIZE);
            g.mov(i, 0);
            g.whileTrue(Cond.ULT, i, argsSize, () -> {
                g.mov(addr, args);
                g.add(addr, i);
                g.load8(tmp, addr, 0);
                g.add(i, PAGE_SIZE);
            });
            g.mov(i, 0);
            g.whileTrue(Cond.ULT, i, pages, () -> {
                g.load64(tmp, args, MemstressArgs.OFF_RANDOM_ACCESS);
                g.ifElse(Cond.NE, tmp, 0, () -> {
                    nextRandom(g, rand);
                    g.mov(addr, rand);
                    g.urem(addr, pages);
                }, () -> g.mov(addr, i));
                g.load64(tmp, args, MemstressArgs.OFF_GUEST_PAGE_SIZE);
                g.mul(addr, tmp);
                g.add(addr, gva);
                // __guest_random_bool(): one draw per access, even at 100% writes, as in C.
                nextRandom(g, rand);
                g.mov(tmp, rand);
                g.urem(tmp, 100);
                g.load64(percent, args, MemstressArgs.OFF_WRITE_PERCENT);
                if (timed) {
                    g.readTsc(t0);
                }
                g.ifElse(Cond.ULT, tmp, percent, () -> {
                    g.mov(tmp, WRITE_PATTERN);
                    g.store64(addr, 0, tmp);
                }, () -> g.load64(tmp, addr, 0));
                if (timed) {
                    g.readTsc(tmp);
                    g.sub(tmp, t0);
                    g.mov(addr, i);
                    g.shl(addr, 3);
                    g.add(addr, latBuf);
                    g.store64(addr, 0, tmp);
                }
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
