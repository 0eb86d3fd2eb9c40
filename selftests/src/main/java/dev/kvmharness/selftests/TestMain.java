// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.GuestLog;
import dev.kvmharness.harness.Ksft;
import java.io.PrintStream;
import java.security.SecureRandom;
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
            backend = Backends.byName(common.backend);
        } catch (IllegalArgumentException e) {
            return Usage.error(cmd, e.getMessage());
        }
        long seed = common.seed != null ? common.seed : new SecureRandom().nextInt() & 0xffffffffL;
        GuestLog.configure(out, false, System.getenv("DEBUG") != null);
        GuestLog.info("Random seed: 0x%x\n", seed);
        AtomicReference<Port.Result> result = new AtomicReference<>(Port.Result.NONE);
        Ksft.Result r = Ksft.run(() -> result.set(port.execute(backend, seed)), out, err);
        if (common.stats && result.get().stats() != null) {
            StatsReport.print(result.get().stats(), out);
            result.get().latencies().forEach((name, summary) -> out.println("Latency " + name + ": " + summary));
        }
        if (common.json != null) {
            JsonReport.write(common.json, port, backend.name(), seed, r, result.get());
        }
        return r.exitCode();
    }
}
