// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.policy;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which kernel the simulator behaves like: a set of {@link Behaviour}s plus, for tests only, flush sites to
 * drop. Data, not code: {@code current} is 6.12, {@code legacy} is ~5.16 (before the zap/flush overhaul),
 * {@code pre-tdp} is current with page faults serialized under mmu_lock held for write, as before the TDP MMU.
 * A spec may adjust a base policy behaviour by behaviour: {@code legacy,+notifier_lock_elision} or
 * {@code current,-flush_before_yield}.
 */
public record Policy(String name, Set<Behaviour> behaviours, Set<FlushSite> droppedFlushes) {
    public Policy {
        behaviours = Collections.unmodifiableSet(behaviours.isEmpty() ? EnumSet.noneOf(Behaviour.class) : EnumSet.copyOf(behaviours));
        droppedFlushes = Collections.unmodifiableSet(droppedFlushes.isEmpty() ? EnumSet.noneOf(FlushSite.class)
                : EnumSet.copyOf(droppedFlushes));
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

    /**
     * Parses {@code base[,+behaviour|,-behaviour|,!flush_site]...} where base is current, legacy or pre-tdp.
     * {@code !site} drops a flush site (test use).
     */
    public static Policy parse(String spec) {
        String[] parts = spec.trim().split(",", -1);
        Policy base = switch (parts[0].trim()) {
            case "current" -> current();
            case "legacy" -> legacy();
            case "pre-tdp" -> preTdp();
            default -> throw new IllegalArgumentException("unknown policy '" + parts[0] + "' (expected current, legacy or pre-tdp)");
        };
        EnumSet<Behaviour> b = base.behaviours.isEmpty() ? EnumSet.noneOf(Behaviour.class) : EnumSet.copyOf(base.behaviours);
        EnumSet<FlushSite> d = EnumSet.noneOf(FlushSite.class);
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            if (p.length() < 2) {
                throw new IllegalArgumentException("bad policy modifier '" + p + "' in '" + spec + "'");
            }
            String key = p.substring(1).toUpperCase(Locale.ROOT).replace('-', '_');
            try {
                switch (p.charAt(0)) {
                    case '+' -> b.add(Behaviour.valueOf(key));
                    case '-' -> b.remove(Behaviour.valueOf(key));
                    case '!' -> d.add(FlushSite.valueOf(key));
                    default -> throw new IllegalArgumentException("bad policy modifier '" + p + "': start it with +, - or !");
                }
            } catch (IllegalArgumentException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("bad policy")) {
                    throw e;
                }
                throw new IllegalArgumentException("unknown behaviour or flush site '" + p.substring(1) + "' in policy '" + spec + "'");
            }
        }
        return new Policy(spec.trim(), b, d);
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
