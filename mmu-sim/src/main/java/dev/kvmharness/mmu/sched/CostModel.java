// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An immutable table {@link Cost} -> virtual ns: what the simulator charges per modelled kernel or hardware
 * operation. Looking up a cost is an array index, since it happens on every simulated instruction.
 */
public final class CostModel {
    private static final Cost[] COSTS = Cost.values();
    private static final Map<String, Cost> BY_KEY = byKey();
    private static final Pattern DIGITS = Pattern.compile("\\d+(_\\d+)*");
    private static final Pattern NEGATIVE = Pattern.compile("-\\s*\\d+(_\\d+)*");
    private static final CostModel DEFAULTS = new CostModel(defaultValues());

    private final long[] ns;

    private CostModel(long[] ns) {
        this.ns = ns;
    }

    /** The built-in estimates ({@link Cost#defaultNs()}). */
    public static CostModel defaults() {
        return DEFAULTS;
    }

    /**
     * Reads a properties-style cost file: {@code key = ns} lines, {@code #} comments, blank lines. Unknown key,
     * negative or non-integer value, duplicate key -> IllegalArgumentException naming file, line number and the
     * problem. Missing keys keep their defaults.
     */
    public static CostModel load(Path file) throws IOException {
        return parse(file.toString(), Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    /**
     * Parses cost-file lines; {@code name} only labels error messages. A {@code #} starts a comment anywhere on a
     * line. Keys are the lower-case {@link Cost} names (matched case-insensitively); values are decimal
     * non-negative integers, optionally grouped with underscores ({@code 25_000}).
     */
    public static CostModel parse(String name, List<String> lines) {
        long[] values = defaultValues();
        Map<Cost, Integer> seenAt = new EnumMap<>(Cost.class);
        int lineNo = 0;
        for (String raw : lines) {
            lineNo++;
            int hash = raw.indexOf('#');
            String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw problem(name, lineNo, "expected 'key = ns', got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            Cost cost = BY_KEY.get(key.toLowerCase(Locale.ROOT));
            if (cost == null) {
                throw problem(name, lineNo, "unknown key '" + key + "' (known keys: " + String.join(", ", BY_KEY.keySet()) + ")");
            }
            Integer previous = seenAt.putIfAbsent(cost, lineNo);
            if (previous != null) {
                throw problem(name, lineNo, "duplicate key '" + cost.key() + "' (first set on line " + previous + ")");
            }
            values[cost.ordinal()] = parseNs(name, lineNo, cost, value);
        }
        return new CostModel(values);
    }

    private static long parseNs(String name, int lineNo, Cost cost, String value) {
        if (NEGATIVE.matcher(value).matches()) {
            throw problem(name, lineNo, "negative value '" + value + "' for '" + cost.key() + "': costs are >= 0 ns");
        }
        if (!DIGITS.matcher(value).matches()) {
            throw problem(name, lineNo, "value '" + value + "' for '" + cost.key() + "' is not a non-negative integer (ns)");
        }
        try {
            return Long.parseLong(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw problem(name, lineNo, "value '" + value + "' for '" + cost.key() + "' does not fit in a long");
        }
    }

    private static IllegalArgumentException problem(String name, int lineNo, String what) {
        return new IllegalArgumentException(name + ":" + lineNo + ": " + what);
    }

    /** The cost of one {@code c}, in virtual ns. */
    public long ns(Cost c) {
        return ns[c.ordinal()];
    }

    /** A copy with {@code c} set to {@code ns}. */
    public CostModel with(Cost c, long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("negative cost " + ns + " ns for " + c.key());
        }
        long[] copy = this.ns.clone();
        copy[c.ordinal()] = ns;
        return new CostModel(copy);
    }

    /** All entries in enum order, for reports. */
    public Map<Cost, Long> asMap() {
        EnumMap<Cost, Long> map = new EnumMap<>(Cost.class);
        for (Cost c : COSTS) {
            map.put(c, ns[c.ordinal()]);
        }
        return Collections.unmodifiableMap(map);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CostModel other && Arrays.equals(ns, other.ns);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ns);
    }

    /** The entries that differ from the defaults, as {@code key=ns}, e.g. {@code CostModel[ipi=900]}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("CostModel[");
        String sep = "";
        for (Cost c : COSTS) {
            if (ns[c.ordinal()] != c.defaultNs()) {
                sb.append(sep).append(c.key()).append('=').append(ns[c.ordinal()]);
                sep = ", ";
            }
        }
        return sb.append(sep.isEmpty() ? "defaults]" : "]").toString();
    }

    private static long[] defaultValues() {
        long[] values = new long[COSTS.length];
        for (Cost c : COSTS) {
            values[c.ordinal()] = c.defaultNs();
        }
        return values;
    }

    private static Map<String, Cost> byKey() {
        Map<String, Cost> map = new LinkedHashMap<>();
        for (Cost c : COSTS) {
            map.put(c.key(), c);
        }
        return map;
    }
}
