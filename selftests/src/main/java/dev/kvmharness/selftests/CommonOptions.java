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

    /**
     * The base policies as {@code Policy.describeNames()} lists them, newest kernel first, with their aliases.
     * Help texts must be constants, so this is a copy; {@code CliTest} checks it against the simulator's list,
     * so a policy added there fails the build until it is named here too.
     */
    static final String POLICY_NAMES = "6.15, 6.13, 6.12 (current), 5.16 (legacy), pre-tdp";

    /** What a --policy SPEC is, for every command that takes one. */
    static final String POLICY_SPEC = "the kernel to model, by version: " + POLICY_NAMES
            + "; pre-tdp is 6.12 with faults under the write lock. A base may be followed by ,+behaviour or"
            + " ,-behaviour to add or drop one, e.g. 6.15,-lockless_aging (docs/BEHAVIOURS.md lists them)";

    /** The ports' --policy default. */
    static final String DEFAULT_POLICY = "current";

    @Option(names = "--policy", paramLabel = "SPEC",
            description = "Simulator only: " + POLICY_SPEC + ". Default: ${DEFAULT-VALUE}.")
    String policy = DEFAULT_POLICY;

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
