// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Item (e): each {@link Behaviour} of the series toggled alone, on {@code legacy} (switched on, or off for the one
 * legacy already has) and on {@code current} (switched off, or on for the one current lacks), with its effect on
 * the remote flushes and the virtual time of workload (a), {@link BootWorkload}. The demand_paging_test half of
 * the table comes from the selftests jar ({@code ci/bench.sh seed-ablation} runs both).
 *
 * <p>Run with {@code ci/bench.sh seed-ablation} or, for this half alone, this class with {@code [--seed N]}.
 */
public final class SeedAblation {
    /** One behaviour's toggles: the base figures and the toggled ones. */
    public record Row(Behaviour behaviour, BootWorkload.Result onLegacy, BootWorkload.Result onCurrent) {
    }

    private SeedAblation() {
    }

    /** The spec that toggles {@code b} alone on {@code base}. */
    static String toggle(String base, Behaviour b) {
        return base + (Policy.parse(base).has(b) ? ",-" : ",+") + b.key();
    }

    static List<Row> run(BootWorkload.Config cfg, long seed) {
        List<Row> rows = new ArrayList<>();
        for (Behaviour b : Behaviour.values()) {
            rows.add(new Row(b, new BootWorkload(cfg, Policy.parse(toggle("legacy", b)), seed).run(),
                    new BootWorkload(cfg, Policy.parse(toggle("current", b)), seed).run()));
        }
        return rows;
    }

    private static String cell(BootWorkload.Result r, BootWorkload.Result base) {
        return String.format(Locale.ROOT, "%d (%d) %+d | %.3f ms %+.1f%%", r.remoteTlbFlush(), r.remoteTlbFlushRequests(),
                r.remoteTlbFlushRequests() - base.remoteTlbFlushRequests(), r.virtualNs() / 1e6,
                100.0 * (r.virtualNs() - base.virtualNs()) / base.virtualNs());
    }

    public static void main(String[] args) {
        BenchArgs a = new BenchArgs("seed-ablation", args, Set.of("seed"));
        long seed = a.number("seed", 1);
        BootWorkload.Config cfg = BootWorkload.Config.standard();
        BootWorkload.Result legacy = new BootWorkload(cfg, Policy.legacy(), seed).run();
        BootWorkload.Result current = new BootWorkload(cfg, Policy.current(), seed).run();
        System.out.printf(Locale.ROOT, "# seed-ablation, workload (a) (seed-boot, %d vCPUs, %d MiB, seed %d): remote_tlb_flush (requests) and the"
                + " change in requests, virtual time and its change, against the base%n", cfg.vcpus(), cfg.ramBytes() >> 20, seed);
        System.out.printf(Locale.ROOT, "# base: legacy %d (%d), %.3f ms; current %d (%d), %.3f ms%n", legacy.remoteTlbFlush(),
                legacy.remoteTlbFlushRequests(), legacy.virtualNs() / 1e6, current.remoteTlbFlush(), current.remoteTlbFlushRequests(),
                current.virtualNs() / 1e6);
        System.out.println("| behaviour | on `legacy` | flushes (requests) | time | on `current` | flushes (requests) | time |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Row r : run(cfg, seed)) {
            Behaviour b = r.behaviour();
            System.out.printf(Locale.ROOT, "| `%s` | %s | %s | %s | %s |%n", b.key(), Policy.legacy().has(b) ? "−" : "+", cell(r.onLegacy(), legacy),
                    Policy.current().has(b) ? "−" : "+", cell(r.onCurrent(), current));
        }
    }
}
