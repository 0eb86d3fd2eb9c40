// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.policy;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Which kernel the simulator behaves like: a set of {@link Behaviour}s plus, for tests only, flush sites to
 * drop. Data, not code: the policies are named by kernel version. {@code 6.15} and {@code 6.13} are 6.12 plus
 * the behaviours merged since ({@link Behaviour#since()}); {@code 6.12} (alias {@code current}) has every
 * behaviour 6.12 has; {@code 5.16} (alias {@code legacy}) is before the zap/flush overhaul; {@code pre-tdp} is
 * 6.12 with page faults serialized under mmu_lock held for write, as before the TDP MMU. A spec may adjust a
 * base policy behaviour by behaviour: {@code 5.16,+notifier_lock_elision} or {@code 6.15,-lockless_aging}.
 */
public record Policy(String name, Set<Behaviour> behaviours, Set<FlushSite> droppedFlushes) {
    public Policy {
        // The fields hold private EnumSets (has() and flushes() run on every SPTE a walk visits: a bit test, not
        // a call through a wrapper); the accessors hand out read-only views.
        behaviours = behaviours.isEmpty() ? EnumSet.noneOf(Behaviour.class) : EnumSet.copyOf(behaviours);
        droppedFlushes = droppedFlushes.isEmpty() ? EnumSet.noneOf(FlushSite.class) : EnumSet.copyOf(droppedFlushes);
    }

    @Override
    public Set<Behaviour> behaviours() {
        return Collections.unmodifiableSet(behaviours);
    }

    @Override
    public Set<FlushSite> droppedFlushes() {
        return Collections.unmodifiableSet(droppedFlushes);
    }

    public static Policy current() {
        EnumSet<Behaviour> b = EnumSet.noneOf(Behaviour.class);
        for (Behaviour x : Behaviour.values()) {
            if (x.inCurrent()) {
                b.add(x);
            }
        }
        return new Policy("current", b, EnumSet.noneOf(FlushSite.class));
    }

    /** Kernel {@code version}, 6.12 or later: 6.12's behaviours plus those merged since, up to {@code version}. */
    public static Policy kernel(String version) {
        EnumSet<Behaviour> b = EnumSet.noneOf(Behaviour.class);
        for (Behaviour x : Behaviour.values()) {
            if (x.inKernel(version)) {
                b.add(x);
            }
        }
        return new Policy(version, b, EnumSet.noneOf(FlushSite.class));
    }

    /** The newest kernel modelled. */
    public static Policy newest() {
        return kernel(NEWEST);
    }

    /** The newest kernel whose behaviours the model has. */
    public static final String NEWEST = "6.15";

    /** ~5.16: the TDP MMU with faults under the read lock, before the overhaul and the notifier elision fix-ups. */
    public static Policy legacy() {
        return new Policy("legacy", EnumSet.of(Behaviour.FAULTS_UNDER_READ_LOCK, Behaviour.NOTIFIER_LOCK_ELISION),
                EnumSet.noneOf(FlushSite.class));
    }

    public static Policy preTdp() {
        Policy c = current();
        EnumSet<Behaviour> b = EnumSet.copyOf(c.behaviours);
        b.remove(Behaviour.FAULTS_UNDER_READ_LOCK);
        return new Policy("pre-tdp", b, EnumSet.noneOf(FlushSite.class));
    }

    /** The base policies a spec starts with, by name, in the order error messages list them. */
    private static final Map<String, Supplier<Policy>> BASES = bases();
    /** Older names of base policies, and what they stand for. */
    private static final Map<String, String> ALIASES = Map.of("current", "6.12", "legacy", "5.16");

    /**
     * Parses {@code base[,+behaviour|,-behaviour|,!flush_site]...} where base is one of {@link #names()} or an
     * alias (current for 6.12, legacy for 5.16).
     * {@code !site} drops a flush site (test use). A bad name is an IllegalArgumentException that lists the
     * valid ones, so a typo needs no trip to the source.
     */
    public static Policy parse(String spec) {
        String[] parts = spec.trim().split(",", -1);
        String baseName = parts[0].trim();
        Supplier<Policy> baseOf = BASES.get(ALIASES.getOrDefault(baseName, baseName));
        if (baseOf == null) {
            throw new IllegalArgumentException("unknown policy '" + parts[0] + "' (expected " + describeNames()
                    + ", optionally followed by ,+behaviour or ,-behaviour)");
        }
        Policy base = baseOf.get();
        EnumSet<Behaviour> b = base.behaviours.isEmpty() ? EnumSet.noneOf(Behaviour.class) : EnumSet.copyOf(base.behaviours);
        EnumSet<FlushSite> d = EnumSet.noneOf(FlushSite.class);
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            if (p.length() < 2) {
                throw new IllegalArgumentException("bad policy modifier '" + p + "' in '" + spec + "'");
            }
            String key = p.substring(1).toLowerCase(Locale.ROOT).replace('-', '_');
            switch (p.charAt(0)) {
                case '+' -> b.add(behaviour(key, spec));
                case '-' -> b.remove(behaviour(key, spec));
                case '!' -> d.add(flushSite(key, spec));
                default -> throw new IllegalArgumentException("bad policy modifier '" + p + "': start it with +, - or !");
            }
        }
        return new Policy(spec.trim(), b, d);
    }

    private static Behaviour behaviour(String key, String spec) {
        for (Behaviour x : Behaviour.values()) {
            if (x.key().equals(key)) {
                return x;
            }
        }
        throw new IllegalArgumentException("unknown behaviour '" + key + "' in policy '" + spec + "'; the behaviours (after"
                + " + or -) are: " + keys(Behaviour.values()) + "; the policies are: " + describeNames());
    }

    private static FlushSite flushSite(String key, String spec) {
        for (FlushSite x : FlushSite.values()) {
            if (x.name().toLowerCase(Locale.ROOT).equals(key)) {
                return x;
            }
        }
        throw new IllegalArgumentException("unknown flush site '" + key + "' in policy '" + spec + "'; the flush sites (after"
                + " !) are: " + keys(FlushSite.values()));
    }

    private static Map<String, Supplier<Policy>> bases() {
        Map<String, Supplier<Policy>> m = new LinkedHashMap<>();
        m.put("6.15", () -> kernel("6.15"));
        m.put("6.13", () -> kernel("6.13"));
        m.put("6.12", () -> rename(current(), "6.12"));
        m.put("5.16", () -> rename(legacy(), "5.16"));
        m.put("pre-tdp", Policy::preTdp);
        return Collections.unmodifiableMap(m);
    }

    private static Policy rename(Policy p, String name) {
        return new Policy(name, p.behaviours, p.droppedFlushes);
    }

    /** The base policies' names, newest kernel first (what --policy's help lists). */
    public static List<String> names() {
        return List.copyOf(BASES.keySet());
    }

    /** The names with their aliases, for messages: "6.15, 6.13, 6.12 (current), 5.16 (legacy), pre-tdp". */
    public static String describeNames() {
        return BASES.keySet().stream().map(n -> ALIASES.entrySet().stream().filter(e -> e.getValue().equals(n)).findFirst()
                .map(e -> n + " (" + e.getKey() + ")").orElse(n)).collect(Collectors.joining(", "));
    }

    /** The command-line names of an enum's constants, from the enum itself, so a new constant is listed too. */
    private static String keys(Enum<?>[] values) {
        return Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    }

    public boolean has(Behaviour b) {
        return behaviours.contains(b);
    }

    /** Whether the flush at {@code site} is issued (not dropped by a test switch). */
    public boolean flushes(FlushSite site) {
        return !droppedFlushes.contains(site);
    }

    public Policy dropping(FlushSite site) {
        EnumSet<FlushSite> d = droppedFlushes.isEmpty() ? EnumSet.noneOf(FlushSite.class) : EnumSet.copyOf(droppedFlushes);
        d.add(site);
        return new Policy(name + ",!" + site.name().toLowerCase(Locale.ROOT), behaviours, d);
    }
}
