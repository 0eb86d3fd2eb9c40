// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.Policy;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link ConcurrentMmuHistory}: vCPUs, the host mm, memslot updates and zaps on their own simulated threads.
 * Under every policy that models a real kernel (6.15's lockless aging included) the oracle finds nothing, pages_* match the SPTEs,
 * invalidations balance and teardown leaves nothing. A failure prints the command that replays its seed.
 */
class ConcurrentMmuHistoryProperties {
    static final int LENGTH = 120;

    private static void check(long seed, String policy) {
        ConcurrentMmuHistory.Case c = ConcurrentMmuHistory.generate(new SplittableRandom(seed), LENGTH);
        List<String> problems = ConcurrentMmuHistory.run(c, Policy.parse(policy), seed);
        assertThat(problems).as("seed %d, policy %s, setup %s%n  replay: %s", seed, policy, c.setup(),
                ReplaySeed.command("ConcurrentMmuHistoryProperties", seed)).isEmpty();
    }

    @Provide
    Arbitrary<Long> seeds() {
        return ReplaySeed.seeds();
    }

    @Property(tries = 150)
    void currentKernelNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, "current");
    }

    /** 6.15: aging without mmu_lock races the faults, zaps, splits and huge page recovery on the other threads. */
    @Property(tries = 150)
    void newestKernelNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, "6.15");
    }

    /** Lockless aging on 6.12's zap path, which still freezes SPTEs while it flushes. */
    @Property(tries = 60)
    void locklessAgingOnTheOlderZapPathNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, "6.12,+lockless_aging");
    }

    @Property(tries = 100)
    void legacyKernelNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, "legacy");
    }

    @Property(tries = 60)
    void preTdpFaultPathNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, "pre-tdp");
    }

    @Property(tries = 100)
    void asyncRootZappingNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, "current,+async_zap_invalidated_roots");
    }
}
