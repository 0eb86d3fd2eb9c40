// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Measures the cost of a baton handoff: two threads whose clocks interleave (even and odd ns) hand the baton to
 * each other at every yieldPoint. Prints the rate; asserts the handoff count, which is exact.
 */
class HandoffRateTest {
    private static final int ROUNDS = 100_000;

    @Test
    void twoThreadsPingPong() {
        try (SimScheduler s = Sims.attached(1)) {
            s.advance(1);
            Runnable player = () -> {
                for (int i = 0; i < ROUNDS; i++) {
                    s.advance(2);
                    s.yieldPoint();
                }
            };
            SimThread even = s.spawn("even", player); // ticks at odd times 3, 5, 7, ...
            SimThread odd = s.spawn("odd", () -> {
                s.advance(1); // ticks at even times 4, 6, 8, ...
                player.run();
            });
            long before = s.handoffs();
            long t0 = System.nanoTime();
            s.join(even);
            s.join(odd);
            long elapsed = System.nanoTime() - t0;
            long handoffs = s.handoffs() - before;
            // every yield of a player hands the baton to the other one
            assertThat(handoffs).isBetween(2L * ROUNDS - 4, 2L * ROUNDS + 4);
            System.out.printf(Locale.ROOT, "baton ping-pong: %d handoffs in %.1f ms = %.0f handoffs/s%n",
                    handoffs, elapsed / 1e6, handoffs * 1e9 / elapsed);
        }
    }

    @Test
    void yieldPointFastPathWhenAlone() {
        try (SimScheduler s = Sims.attached(1)) {
            SimThread other = s.spawn("other", () -> {});
            s.join(other); // from here on main is the only thread: every yieldPoint takes the fast path
            long handoffs = s.handoffs();
            long t0 = System.nanoTime();
            for (int i = 0; i < 5_000_000; i++) {
                s.yieldPoint();
            }
            long elapsed = System.nanoTime() - t0;
            assertThat(s.handoffs()).isEqualTo(handoffs);
            System.out.printf(Locale.ROOT, "yieldPoint fast path: %.1f ns/call%n", elapsed / 5e6);
        }
    }
}
