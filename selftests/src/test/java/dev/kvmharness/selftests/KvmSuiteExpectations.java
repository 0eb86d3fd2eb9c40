// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the suite on /dev/kvm must print for a list of ports on this host: "ok N" for each, "# SKIP" only for a
 * port whose host requirement is missing here, as its C original skips (access_tracking_perf_test without
 * CONFIG_IDLE_PAGE_TRACKING), and totals to match.
 */
public final class KvmSuiteExpectations {
    private KvmSuiteExpectations() {
    }

    public static boolean skipsHere(String test) {
        return test.equals("access_tracking_perf_test") && !Files.exists(Path.of("/sys/kernel/mm/page_idle/bitmap"));
    }

    /** The TAP result lines and the totals line for {@code tests}, in order. */
    public static List<String> lines(List<String> tests) {
        List<String> out = new ArrayList<>();
        int skips = 0;
        for (int i = 0; i < tests.size(); i++) {
            boolean skip = skipsHere(tests.get(i));
            skips += skip ? 1 : 0;
            out.add("ok " + (i + 1) + " selftests: kvm: " + tests.get(i) + (skip ? " # SKIP" : "") + "\n");
        }
        out.add("# Totals: pass:" + (tests.size() - skips) + " fail:0 xfail:0 xpass:0 skip:" + skips + " error:0\n");
        return out;
    }

    /** Shard {@code i} of {@code n} of the registry's ports, as {@link Shard} selects it. */
    public static List<String> shard(int i, int n) {
        List<String> out = new ArrayList<>();
        for (int k = i - 1; k < Main.TESTS.size(); k += n) {
            out.add(Main.TESTS.get(k));
        }
        return out;
    }
}
