// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Seeds for the history properties, and the command that replays one: {@code -Dreplay.seed=N} makes every
 * try of every property use seed N, so a failure seen once runs again, alone, under a debugger if need be.
 */
final class ReplaySeed {
    static final String PROPERTY = "replay.seed";

    private ReplaySeed() {
    }

    static Arbitrary<Long> seeds() {
        String fixed = System.getProperty(PROPERTY);
        return fixed == null ? Arbitraries.longs() : Arbitraries.just(Long.decode(fixed));
    }

    static String command(String testClass, long seed) {
        return "mvn -B -pl mmu-sim test -Dtest=" + testClass + " -D" + PROPERTY + "=" + seed;
    }
}
