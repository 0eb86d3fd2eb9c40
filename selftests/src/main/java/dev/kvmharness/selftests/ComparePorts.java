// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.List;
import java.util.Map;

/**
 * The ports compare can run, with the options it adds to each run so that both backends measure more than the C
 * test reports. A new port plugs in with one entry (its name and its extra options, often none): compare only
 * needs the port's --json report.
 */
final class ComparePorts {
    private static final Map<String, List<String>> EXTRA = Map.of(
            "demand_paging_test", List.of("--touch-latency"),
            "max_guest_memory_test", List.of(),
            "mmu_stress_test", List.of(),
            "set_memory_region_test", List.of());

    private ComparePorts() {
    }

    static boolean known(String test) {
        return EXTRA.containsKey(test);
    }

    static List<String> names() {
        return EXTRA.keySet().stream().sorted().toList();
    }

    /** Options compare adds to every round of {@code test}. */
    static List<String> extraOptions(String test) {
        return EXTRA.getOrDefault(test, List.of());
    }
}
