// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The suite runner's {@code --policy}: with the newest kernel's policy every registered port runs on the
 * simulator and passes, and each one ran under that policy (the "Backend: sim (..., policy P)" line every port
 * prints names the policy its simulator was built with).
 */
class SuitePolicySimIT {

    @Test
    void everyPortPassesUnderTheNewestKernelsPolicy() throws Exception {
        String policy = Policy.NEWEST;
        // The whole suite takes about a minute on the simulator on a 2-core host.
        SelftestsJar.Result r = SelftestsJar.run(600, "--policy", policy);
        List<String> tests = Main.TESTS;
        assertThat(r.out()).as(r.all())
                .startsWith("TAP version 13\n1.." + tests.size() + "\n# simulator policy: " + policy + "\n");
        List<List<String>> blocks = blocks(r.out());
        assertThat(blocks).as("one TAP block per registered port:%n%s", r.out()).hasSize(tests.size());
        for (int i = 0; i < tests.size(); i++) {
            String test = tests.get(i);
            List<String> block = blocks.get(i);
            String text = String.join("\n", block);
            assertThat(block).as("block %d is %s's:%n%s", i + 1, test, text).contains("# selftests: kvm: " + test);
            assertThat(block).as("%s passes under --policy %s:%n%s", test, policy, text)
                    .contains("ok " + (i + 1) + " selftests: kvm: " + test);
            assertThat(block.stream().filter(l -> l.startsWith("# Backend: ")).toList())
                    .as("%s's simulator was built with --policy %s (the suite passed it on):%n%s", test, policy, text)
                    .containsExactly("# Backend: sim (mmu-sim TDP MMU model, policy " + policy
                            + "): times are virtual (simulated), not wall-clock");
        }
        assertThat(r.out()).contains("# Totals: pass:" + tests.size() + " fail:0 xfail:0 xpass:0 skip:0 error:0\n");
        assertThat(r.exit()).as(r.all()).isZero();
    }

    /** The TAP stream cut into each test's lines: from its "# timeout set to" to its ok / not ok line. */
    private static List<List<String>> blocks(String tap) {
        List<List<String>> blocks = new ArrayList<>();
        List<String> block = null;
        for (String l : tap.lines().toList()) {
            if (l.startsWith("# timeout set to ")) {
                block = new ArrayList<>();
                blocks.add(block);
            }
            if (block != null && !l.startsWith("# Totals:")) {
                block.add(l);
            }
        }
        return blocks;
    }
}
