// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two runners with {@code --shard 1/2} and {@code --shard 2/2} run exactly what one unsharded run does: every
 * port once, here on the simulator with a seed sweep so each shard gets several items; and a shard really runs
 * its items (TAP), not only lists them.
 */
class SuiteShardIT {
    private static List<String> items(String... args) throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, args);
        assertThat(r.exit()).as(r.all()).isZero();
        return r.out().lines().toList();
    }

    @Test
    void twoShardsTogetherRunWhatOneRunDoes() throws Exception {
        List<String> all = items("--list", "--seeds", "1..5");
        List<String> one = items("--list", "--seeds", "1..5", "--shard", "1/2");
        List<String> two = items("--list", "--seeds", "1..5", "--shard", "2/2");
        assertThat(all).hasSize(Main.TESTS.size() * 5);
        List<String> union = new ArrayList<>(one);
        union.addAll(two);
        assertThat(union).containsExactlyInAnyOrderElementsOf(all);
        assertThat(one).doesNotContainAnyElementsOf(two);
        assertThat(items("--list")).hasSize(Main.TESTS.size());
    }

    @Test
    void aShardRunsItsItems() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(300, "--seeds", "3..4", "--shard", "2/2");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).startsWith("TAP version 13\n1.." + Main.TESTS.size() + "\n")
                .contains("ok 1 selftests: kvm: " + Main.TESTS.get(0) + " --seed 4\n")
                .contains("# Random seed: 0x4\n");
        assertOutputIsReadable(r.out());
    }

    /**
     * What a person reads: a test's {@code \r} progress lines are one comment (the last text written), every
     * test says which backend ran it and that its times are virtual, and no test floods the log.
     */
    private static void assertOutputIsReadable(String tap) {
        assertThat(tap.lines().filter(l -> l.contains("haven't rendezvoused")))
                .as("\\r progress lines of rendezvous_with_vcpus() must collapse to their last text").isEmpty();
        int blocks = 0;
        int lines = 0;
        for (String l : tap.lines().toList()) {
            if (l.startsWith("# timeout set to")) {
                blocks++;
                lines = 0;
            }
            lines++;
            // memslot_perf_test's six tests print about 40 lines in C already; a flood is hundreds
            assertThat(lines).as("lines of one test's TAP block, at: " + l).isLessThanOrEqualTo(48);
        }
        assertThat(tap.lines().filter(l -> l.startsWith("# Backend: sim (") && l.endsWith("times are virtual (simulated), not wall-clock")))
                .as("each test names its backend and says its times are virtual").hasSize(blocks);
    }

    @Test
    void aBadShardIsAUsageError() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, "--shard", "3/2");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--shard 3/2");
    }
}
