// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.ArrayList;
import java.util.List;

/**
 * One run of the suite: a port, and on the simulator optionally the seed of a sweep ({@code --seeds A..B}).
 *
 * @param seed the --seed to pass, or null for the port's default
 */
record SuiteItem(String test, Long seed) {
    /** The suite: every test, times every seed of the sweep if there is one, tests outermost. */
    static List<SuiteItem> of(List<String> tests, List<Long> seeds) {
        List<SuiteItem> items = new ArrayList<>();
        for (String t : tests) {
            if (seeds.isEmpty()) {
                items.add(new SuiteItem(t, null));
            } else {
                for (long s : seeds) {
                    items.add(new SuiteItem(t, s));
                }
            }
        }
        return items;
    }

    /** Parses "A..B" (inclusive, decimal or 0x hex) into the seeds of a sweep. */
    static List<Long> seedRange(String s) {
        int dots = s.indexOf("..");
        try {
            long from = dots < 0 ? Long.decode(s.trim()) : Long.decode(s.substring(0, dots).trim());
            long to = dots < 0 ? from : Long.decode(s.substring(dots + 2).trim());
            if (to < from || to - from >= 1_000_000) {
                throw new IllegalArgumentException("--seeds '" + s + "': want A..B with A <= B and at most a million seeds");
            }
            List<Long> seeds = new ArrayList<>();
            for (long x = from; x <= to; x++) {
                seeds.add(x);
            }
            return seeds;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seeds '" + s + "': want A..B, e.g. 1..100", e);
        }
    }

    /** The TAP title: "selftests: kvm: name", with the seed of a sweep. */
    String title() {
        return "selftests: kvm: " + test + (seed == null ? "" : " --seed " + seed);
    }
}
