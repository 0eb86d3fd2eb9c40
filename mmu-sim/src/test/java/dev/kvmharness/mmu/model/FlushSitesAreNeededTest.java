// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.policy.Policy;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The other half of the oracle's claim: each flush the model issues is load-bearing. Dropping any one of them
 * (a test-only policy switch) must let some generated history use a stale translation, and the oracle must say
 * so. Four sites are left out because no stale translation can follow from dropping them: HUGE_PAGE_REPLACE
 * protects the paging-structure caches (not modeled: the TLB holds leaf translations only), REMOVED_PT and
 * COLLAPSE_FINAL are legacy flushes every legacy caller already covers, and AGE only makes cleared Accessed
 * bits visible sooner.
 */
class FlushSitesAreNeededTest {
    private static final int MAX_HISTORIES = 400;

    @ParameterizedTest
    @EnumSource(value = FlushSite.class, mode = EnumSource.Mode.EXCLUDE, names = {"HUGE_PAGE_REPLACE", "REMOVED_PT",
        "COLLAPSE_FINAL", "AGE"})
    void droppingTheFlushLetsTheOracleSeeAStaleTranslation(FlushSite site) {
        // The batched collapse flush exists from 6.13 on; every other site is 6.12's.
        Policy broken = (site == FlushSite.COLLAPSE_BATCH ? Policy.newest() : Policy.current()).dropping(site);
        for (long seed = 1; seed <= MAX_HISTORIES; seed++) {
            MmuHistory.Case c = MmuHistory.generate(new SplittableRandom(seed * 0x9E3779B97F4A7C15L), 80);
            List<String> problems = MmuHistory.run(c, broken, seed);
            if (!problems.isEmpty()) {
                System.out.println(site + " seed " + seed + ": " + problems.get(0).lines().findFirst().orElse(""));
                assertThat(problems.get(0)).as("a stale translation, not some other failure").containsAnyOf("TLB", "freed");
                return;
            }
        }
        throw new AssertionError("dropping " + site + " went unnoticed in " + MAX_HISTORIES + " histories");
    }

    /** The control: the same histories under the unmodified policies show nothing, so a report above is the drop's. */
    @ParameterizedTest
    @ValueSource(strings = {"current", "legacy", "6.15"})
    void theUnmodifiedPolicyPassesTheSameHistories(String policy) {
        for (long seed = 1; seed <= MAX_HISTORIES; seed++) {
            MmuHistory.Case c = MmuHistory.generate(new SplittableRandom(seed * 0x9E3779B97F4A7C15L), 80);
            assertThat(MmuHistory.run(c, Policy.parse(policy), seed)).as("history %d under %s", seed, policy).isEmpty();
        }
    }
}
