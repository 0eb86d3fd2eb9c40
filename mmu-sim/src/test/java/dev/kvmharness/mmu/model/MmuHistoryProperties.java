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
 * Random histories of faults, notifier invalidations, memslot moves and deletes, dirty-log toggles and ioctls,
 * NX recovery and fast zaps on several vCPUs: under every policy that models a real kernel, the
 * stale-translation oracle finds nothing, pages_* match the SPTEs, and invalidations balance. A failure prints
 * the command that replays its seed.
 */
class MmuHistoryProperties {
    @Provide
    Arbitrary<Long> seeds() {
        return ReplaySeed.seeds();
    }

    private static void check(long seed, Policy policy) {
        MmuHistory.Case c = MmuHistory.generate(new SplittableRandom(seed), 80);
        List<String> problems = MmuHistory.run(c, policy, seed);
        assertThat(problems).as("seed %d, policy %s, setup %s%n  replay: %s", seed, policy.name(), c.setup(),
                ReplaySeed.command("MmuHistoryProperties", seed)).isEmpty();
    }

    @Property(tries = 150)
    void currentKernelNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, Policy.current());
    }

    @Property(tries = 150)
    void newestKernelNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, Policy.newest());
    }

    @Property(tries = 150)
    void legacyKernelNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, Policy.legacy());
    }

    @Property(tries = 60)
    void preTdpFaultPathNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, Policy.preTdp());
    }

    @Property(tries = 60)
    void asyncRootZappingNeverUsesAStaleTranslation(@ForAll("seeds") long seed) {
        check(seed, Policy.parse("current,+async_zap_invalidated_roots"));
    }
}
