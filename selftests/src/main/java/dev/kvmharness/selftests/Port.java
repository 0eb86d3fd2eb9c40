// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.sim.SimOptions;
import java.util.Map;

/** A ported selftest as the CLI drives it: parsed options in, a measured result out. */
interface Port {
    /** The C test's name, e.g. "demand_paging_test". */
    String name();

    /** Checks the options before anything runs; an IllegalArgumentException is a usage error (exit 2). */
    void validate();

    /**
     * Checks the options whose limits are the backend's (KVM_CAP_MAX_VCPUS, the guest physical address space),
     * after {@link #validate()} and still before anything runs; an IllegalArgumentException is a usage error.
     * Only asked of a backend that can run here: one that cannot (no /dev/kvm) makes the run skip with the reason.
     */
    default void validate(Backend backend) {
    }

    /** The options as they were understood, for the JSON report. */
    Map<String, Object> options();

    /**
     * The simulator's configuration for this run, from the port's simulator-only options (default: unchanged).
     * Called after {@link #validate()}.
     */
    default SimOptions simOptions(SimOptions base) {
        return base;
    }

    /** The test's main() body; throws TestSkipped or TestAssertionFailure as the C test would exit. */
    Result execute(Backend backend, long seed);

    /**
     * What a run measured: timings in ns, rates, latency distributions (name to count, mean and percentiles in
     * ns), the stats deltas by KVM name, the backend's own report ({@code Vm.backendReport()}), and sections of
     * the JSON report a port adds beyond those (key to value, written after {@code backend_report}; e.g.
     * max_guest_memory_test's {@code teardown}).
     */
    record Result(Map<String, Object> timings, Map<String, Object> rates, Map<String, Object> latencies,
                  Stats.Delta stats, Map<String, Object> backendReport, Map<String, Object> sections) {
        static final Result NONE = new Result(Map.of(), Map.of(), Map.of(), null, Map.of());

        /** A result with no sections of its own. */
        Result(Map<String, Object> timings, Map<String, Object> rates, Map<String, Object> latencies,
               Stats.Delta stats, Map<String, Object> backendReport) {
            this(timings, rates, latencies, stats, backendReport, Map.of());
        }
    }
}
