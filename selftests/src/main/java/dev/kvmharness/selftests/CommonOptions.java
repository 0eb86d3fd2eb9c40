// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every port has besides the C test's own. */
public final class CommonOptions {
    @Option(names = "--backend", paramLabel = "kvm|sim",
            description = "Where to run: kvm (/dev/kvm) or sim (the TDP MMU simulator). Default: ${DEFAULT-VALUE}.")
    String backend = Backends.DEFAULT;

    /** What the C tests print: glibc's random() is never seeded, so its first value is always this. */
    static final long C_DEFAULT_SEED = 0x6b8b4567L;

    @Option(names = "--policy", paramLabel = "SPEC",
            description = "Simulator only: the kernel to model: current (6.12), legacy (~5.16) or pre-tdp, optionally "
                    + "followed by ,+behaviour or ,-behaviour (see the README). Default: ${DEFAULT-VALUE}.")
    String policy = "current";

    @Option(names = "--cost-model", paramLabel = "FILE",
            description = "Simulator only: per-operation costs in ns (key = ns lines) overriding the defaults.")
    Path costModel;

    @Option(names = "--host-cpus", paramLabel = "N",
            description = "Simulator only: the host CPUs that vCPU threads, userfaultfd readers and the main thread share"
                    + " (a thread that could run waits for one). Default: 0, every thread has a CPU of its own.")
    int hostCpus;

    @Option(names = "--oracle", paramLabel = "on|off",
            description = "Simulator only: check every translation the guest uses against the host pages and SPTEs "
                    + "(the stale-translation oracle). off is for benchmark runs: same results, less host time; the "
                    + "--json then says \"oracle\": \"off\". Default: ${DEFAULT-VALUE}.")
    String oracle = "on";

    @Option(names = "--seed", paramLabel = "N",
            description = "Random seed for the guest (and the simulator), 0..0xffffffff. Default: 0x6b8b4567, the C tests' seed.")
    Long seed;

    @Option(names = "--json", paramLabel = "PATH", description = "Write the result as JSON to PATH.")
    Path json;

    @Option(names = "--stats", description = "Print the KVM binary-stats deltas of the run.")
    boolean stats;

    @Option(names = "--run-timeout", paramLabel = "SECONDS",
            description = "Kick a vCPU out of KVM_RUN and fail if the guest has not exited after this long: wall time on kvm,"
                    + " virtual time on sim (where a very large run, e.g. -b 1T, needs more). Default: ${DEFAULT-VALUE}.")
    long runTimeoutSeconds = 120;
}
