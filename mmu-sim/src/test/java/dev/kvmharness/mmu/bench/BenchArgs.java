// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.policy.Policy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The seed benchmarks' command lines: {@code --name value} pairs, where {@code --policy} may repeat (a policy
 * spec contains commas, so several are given as several options). Anything else is a usage error naming the
 * option and the ones the program takes.
 */
final class BenchArgs {
    private final Map<String, String> values = new HashMap<>();
    private final List<Policy> policies = new ArrayList<>();

    BenchArgs(String program, String[] args, Set<String> known) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || !(known.contains(a.substring(2)) || a.equals("--policy"))) {
                throw new IllegalArgumentException(program + ": unknown option '" + a + "' (options: --policy SPEC (repeatable), --"
                        + String.join(" N, --", known) + " N)");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(program + ": option '" + a + "' needs a value");
            }
            String v = args[++i];
            if (a.equals("--policy")) {
                policies.add(Policy.parse(v));
            } else {
                values.put(a.substring(2), v);
            }
        }
    }

    /** The policies given, or {@code defaults} (specs) if none was. */
    List<Policy> policies(String... defaults) {
        if (!policies.isEmpty()) {
            return policies;
        }
        List<Policy> out = new ArrayList<>();
        for (String d : defaults) {
            out.add(Policy.parse(d));
        }
        return out;
    }

    long number(String name, long dflt) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.decode(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + ": expected a non-negative number, got '" + v + "'");
        }
    }
}
