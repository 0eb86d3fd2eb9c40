// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/**
 * A virtual 64-bit guest register. Guest programs name registers by index so that every backend can map
 * them onto whatever storage it has: real GPRs on KVM (see the x86 compiler's fixed register map, which lets
 * the host read and write them through KVM_GET/SET_REGS), an array in a simulator.
 *
 * <p>Indexes {@code 0..ARG_COUNT-1} are the argument registers the host may set before the vCPU first runs,
 * the way vcpu_args_set() loads the C selftests' guest_code() parameters. Every register a program does not
 * declare as an argument starts at 0.
 */
public record Reg(int index) {
    /** Number of virtual registers. */
    public static final int COUNT = 13;
    /** Registers {@code 0..ARG_COUNT-1} can carry arguments from the host. */
    public static final int ARG_COUNT = 6;

    private static final Reg[] ALL = new Reg[COUNT];

    static {
        for (int i = 0; i < COUNT; i++) {
            ALL[i] = new Reg(i);
        }
    }

    public Reg {
        if (index < 0 || index >= COUNT) {
            throw new IllegalArgumentException("register index " + index + " out of range 0.." + (COUNT - 1));
        }
    }

    public static Reg of(int index) {
        if (index < 0 || index >= COUNT) {
            throw new IllegalArgumentException("register index " + index + " out of range 0.." + (COUNT - 1));
        }
        return ALL[index];
    }

    /** Whether the host can load this register before the first run. */
    public boolean isArgumentRegister() {
        return index < ARG_COUNT;
    }

    /** {@code r<index>}: the name used in listings and in guest assertion messages. */
    @Override
    public String toString() {
        return "r" + index;
    }
}
