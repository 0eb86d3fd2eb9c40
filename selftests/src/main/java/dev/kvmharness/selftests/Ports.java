// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The one registry of ports: a line per port, from which everything else derives. The CLI's subcommands and the
 * suite's order, the suite's arguments, compare's extra options, the matrix rows (ci/matrix.py) and the C build
 * targets (ci/build-c-selftests.sh) all read it; the scripts through {@code selftests.jar --ports}, which prints
 * it as JSON. Adding a port is its class and one line here.
 */
final class Ports {
    private Ports() {
    }

    /**
     * One port's line.
     *
     * @param name the C test's name, the subcommand
     * @param command a new picocli command object for it
     * @param cTarget the C selftest it is compared with, built from linux-source-6.12 (null: not in 6.12)
     * @param suiteArgs what the suite adds where the C defaults cannot finish in the suite's timeout on a small host
     *     (printed as "# suite arguments:")
     * @param compareOptions what compare adds to every run so both backends measure more than the C test prints
     * @param matrix the matrix rows: row name to the port's options (small sizes: the matrix checks that every port
     *     passes everywhere and that the runs agree, not how fast they are)
     */
    record Entry(String name, Supplier<Object> command, String cTarget, List<String> suiteArgs,
                 List<String> compareOptions, Map<String, String> matrix) {
        Entry {
            suiteArgs = List.copyOf(suiteArgs);
            compareOptions = List.copyOf(compareOptions);
            matrix = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(matrix));
        }
    }

    /**
     * Every port, in the order the suite runs them. max_guest_memory_test and mmu_stress_test default to 128 GiB
     * of guest memory, minutes on a 2-core machine (about 7 min on the development host's /dev/kvm, 6 min for
     * mmu_stress_test on the simulator), and mmu_stress_test's read-only stage costs a KVM_RUN per page.
     */
    static final List<Entry> ALL = List.of(
            new Entry("demand_paging_test", DemandPagingTest::new, "demand_paging_test", List.of(),
                    List.of("--touch-latency"),
                    rows("demand_paging_test", "-b 64M -v 2", "demand_paging_test_uffd", "-u MISSING -b 16M")),
            new Entry("max_guest_memory_test", MaxGuestMemoryTest::new, "max_guest_memory_test", List.of("-m", "8"),
                    List.of(), rows("max_guest_memory_test", "-m 4 -c 1")),
            new Entry("mmu_stress_test", MaxGuestMemoryTest.MmuStress::new, null, List.of("-m", "4"),
                    List.of(), rows("mmu_stress_test", "-m 4 -c 1")),
            new Entry("set_memory_region_test", SetMemoryRegionTest::new, "set_memory_region_test", List.of(),
                    List.of(), rows("set_memory_region_test", "2")),
            new Entry("dirty_log_perf_test", DirtyLogPerfTest::new, "dirty_log_perf_test", List.of(), List.of(),
                    rows("dirty_log_perf_test", "-b 64M -v 2 -i 3", "dirty_log_perf_test_no_manual_protect", "-g -b 16M")),
            new Entry("access_tracking_perf_test", AccessTrackingPerfTest::new, "access_tracking_perf_test", List.of(),
                    List.of(), rows("access_tracking_perf_test", "-b 64M -v 2")),
            new Entry("memslot_modification_stress_test", MemslotModificationStressTest::new,
                    "memslot_modification_stress_test", List.of(), List.of(),
                    rows("memslot_modification_stress_test", "-b 16M -v 2 -i 20")),
            new Entry("memslot_perf_test", MemslotPerfTest::new, "memslot_perf_test", List.of("-l", "1", "-s", "1024"),
                    List.of(), rows("memslot_perf_test", "-s 64 -l 1 -r 1")));


    static List<String> names() {
        return ALL.stream().map(Entry::name).toList();
    }

    static Optional<Entry> byName(String name) {
        return ALL.stream().filter(p -> p.name.equals(name)).findFirst();
    }

    /** The registry for the scripts: name, C target, suite arguments, compare options, matrix rows. */
    static String toJson() {
        List<Map<String, Object>> out = ALL.stream().map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.name);
            m.put("c_target", p.cTarget);
            m.put("suite_args", p.suiteArgs);
            m.put("compare_options", p.compareOptions);
            m.put("matrix", p.matrix);
            return m;
        }).toList();
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> rows(String... nameAndOptions) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < nameAndOptions.length; i += 2) {
            m.put(nameAndOptions[i], nameAndOptions[i + 1]);
        }
        return m;
    }
}
