// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * The "Random seed: 0x..." lines of lib/kvm_util.c: kvm_selftest_init() prints the seed every test starts with,
 * and __vm_create() prints the guests' seed again whenever a test has changed it since the last line (as
 * dirty_log_perf_test does, fixing it to 1 or to its -r value), so the output says which seed the guests ran with.
 */
public final class GuestRandomSeed {
    /** last_guest_seed: the seed of the last line printed; -1 before any. */
    private static volatile long last = -1;

    private GuestRandomSeed() {
    }

    /** kvm_selftest_init(): prints {@code seed}, the run's, and remembers it. */
    public static void init(long seed) {
        last = seed;
        GuestLog.info("Random seed: 0x%x\n", seed);
    }

    /** __vm_create(): a VM whose guests take {@code seed} prints it if it is not the one printed last. */
    public static void vmCreated(long seed) {
        long s = seed & 0xffffffffL;
        if (s != last) {
            GuestLog.info("Random seed: 0x%x\n", s);
            last = s;
        }
    }
}
