// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.GuestRandomSeed;
import dev.kvmharness.harness.Ksft;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.sys.Sys;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;

/**
 * What every port's main() shares: resolve the backend and seed, print "Random seed" like
 * kvm_selftest_init(), run the body under the kselftest conventions, then write --json and --stats.
 */
final class TestMain {
    private TestMain() {
    }

    static int run(Port port, CommonOptions common, CommandLine cmd) {
        // The C tests write to unbuffered stdout/stderr; so do the ports (test output must interleave in order).
        PrintStream out = System.out;
        PrintStream err = System.err;
        Backend backend;
        try {
            port.validate();
            if (common.seed != null && (common.seed < 0 || common.seed > 0xffffffffL)) {
                throw new IllegalArgumentException("--seed must be in 0..0xffffffff (guest_random_seed is 32 bits)");
            }
            boolean oracle = Backends.oracle(common.oracle);
            backend = Backends.byName(common.backend, common.seed != null ? common.seed : CommonOptions.C_DEFAULT_SEED,
                    common.policy, common.costModel, o -> port.simOptions(o.withConfig(o.config().withOracle(oracle)).withHostCpus(common.hostCpus)));
            if (common.runTimeoutSeconds < 1 || common.runTimeoutSeconds > 86_400) {
                throw new IllegalArgumentException("--run-timeout must be between 1 and 86400 seconds");
            }
            CliFiles.checkWritable("--json", common.json);
            if (backend.unavailableReason().isEmpty()) {
                port.validate(backend);
            }
        } catch (IllegalArgumentException | UncheckedIOException e) {
            return Usage.error(cmd, e.getMessage());
        }
        long seed = common.seed != null ? common.seed : CommonOptions.C_DEFAULT_SEED;
        AtomicReference<Port.Result> result = new AtomicReference<>(Port.Result.NONE);
        Ksft.Result r;
        // A long run shows its progress on stderr when that is a terminal; the line is erased before stdout writes.
        try (ProgressLine progress = ProgressLine.start(port.name(), err, Sys.isatty(2))) {
            PrintStream shown = progress.guard(out);
            GuestLog.configure(shown, false, System.getenv("DEBUG") != null);
            GuestRandomSeed.init(seed);
            // Not a line of the C test: which backend produced the output, and whether its times are virtual.
            shown.println("Backend: " + backend.describe());
            r = Ksft.run(() -> SimScheduler.runOnSimulationCarrier(port.name(), () -> result.set(port.execute(backend, seed))),
                    shown, progress.guard(err));
        }
        // the progress line is gone: what prints from here (--stats, a test's late GuestLog) goes straight out
        GuestLog.configure(out, false, System.getenv("DEBUG") != null);
        r = failOnOracleViolations(r, result.get(), err);
        if (common.stats && result.get().stats() != null) {
            StatsReport.print(result.get().stats(), out);
            // The encoded histogram is for --json readers (compare), not for people.
            result.get().latencies().forEach((name, summary) -> out.println("Latency " + name + ": "
                    + (summary instanceof Map<?, ?> m ? withoutHdr(m) : summary)));
            result.get().backendReport().forEach((name, value) -> out.println("Backend " + name + ": " + value));
        }
        if (common.json != null) {
            try {
                JsonReport.write(common.json, port, backend.name(), seed, r, result.get());
            } catch (UncheckedIOException e) {
                err.println("error: cannot write --json " + common.json + ": " + e.getCause().getMessage());
                return r.exitCode() == Ksft.PASS ? Ksft.FAIL : r.exitCode();
            }
        }
        return r.exitCode();
    }

    /**
     * A simulated run whose stale-translation oracle saw the model break KVM's promises fails, whatever the test
     * itself checked: the C test cannot see a stale TLB entry that happens to hold the right data, the oracle can.
     */
    private static Ksft.Result failOnOracleViolations(Ksft.Result r, Port.Result result, PrintStream err) {
        Map<String, Object> report = result.backendReport();
        if (r.exitCode() != Ksft.PASS || report == null || !(report.get("oracle_violations") instanceof Number n)
                || n.longValue() == 0) {
            return r;
        }
        String reason = n.longValue() + " violation" + (n.longValue() == 1 ? "" : "s")
                + " of KVM's promises in the model; the first: " + report.get("oracle_first_violation");
        err.println("Simulator oracle: " + reason);
        return new Ksft.Result(Ksft.FAIL, reason);
    }

    private static Map<?, ?> withoutHdr(Map<?, ?> m) {
        Map<Object, Object> copy = new LinkedHashMap<>(m);
        copy.remove("hdr");
        return copy;
    }
}
