// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.kvm.KvmBackend;
import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.harness.sim.SimOptions;
import dev.kvmharness.mmu.policy.Policy;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** The --backend names. */
final class Backends {
    /** The simulator: runs anywhere, deterministically. */
    static final String DEFAULT = "sim";

    private Backends() {
    }

    /** Checks a --backend value; a usage error for anything else. */
    static void check(String name) {
        if (!name.equals("kvm") && !name.equals("sim")) {
            throw new IllegalArgumentException("unknown backend '" + name + "' (expected kvm or sim)");
        }
    }

    /**
     * Checks a --policy SPEC before anything runs; a usage error naming the policies (or the behaviours) for a bad
     * one. For the commands that pass the spec on to the ports rather than build a simulator themselves.
     */
    static void checkPolicy(String spec) {
        Policy.parse(spec);
    }

    /** The --oracle value: on or off; a usage error for anything else. */
    static boolean oracle(String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("--oracle must be on or off, got '" + value + "'");
        };
    }

    /**
     * The backend for a --backend value. The simulator takes the seed (its scheduler's), the policy and the
     * cost model; bad values, and a cost model file that cannot be read, are usage errors.
     */
    static Backend byName(String name, long seed, String policy, Path costModel) {
        return byName(name, seed, policy, costModel, UnaryOperator.identity());
    }

    /** As above, with the port's simulator-only options applied to the sim configuration. */
    static Backend byName(String name, long seed, String policy, Path costModel,
                          UnaryOperator<SimOptions> simOptions) {
        check(name);
        if (name.equals("kvm")) {
            return new KvmBackend();
        }
        SimOptions options;
        try {
            options = SimOptions.of(seed, policy, costModel);
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException("cannot read --cost-model " + costModel + ": " + CliFiles.reason(e.getCause()), e);
        }
        return new SimBackend(simOptions.apply(options));
    }
}
