// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.kvm.KvmBackend;
import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.harness.sim.SimOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Runs histories on two sides (the simulator and /dev/kvm, or any two observers) and compares what userspace
 * saw, step by step. The first step where they differ is a divergence; a divergence a host {@link Quirk}
 * explains is counted and ends the history, any other is minimized ({@link Shrinker}) and reported.
 */
public final class Conformance {
    /** What a side saw: one observation per step of a history. */
    public interface Observer extends Function<History, List<String>> {
    }

    /**
     * The first step where the two sides differ, what each saw there, and what each saw at every step of the
     * history (the lists may be shorter than it, where a side could not go on).
     */
    public record Divergence(History history, int step, String sim, String kvm, Quirk quirk, List<String> simObservations,
                             List<String> kvmObservations) {
        public Divergence {
            simObservations = List.copyOf(simObservations);
            kvmObservations = List.copyOf(kvmObservations);
        }

        public Op op() {
            return history.ops().get(step);
        }

        /** The history up to and including the diverging step. */
        public History prefix() {
            return history.withOps(history.ops().subList(0, step + 1));
        }

        /**
         * What kind of divergence this is, numbers left out: the step's kind and the two observations with every
         * hex value as {@code N}. Divergences of one kind are most likely one cause; one of each is minimized.
         */
        public String signature() {
            return op().kind() + ": sim " + sim.replaceAll("0x[0-9a-f]+", "N") + ", kvm " + kvm.replaceAll("0x[0-9a-f]+", "N");
        }
    }

    /** The totals of a run. */
    public record Report(int histories, long steps, Map<String, Long> stepsByKind, Map<Quirk, Long> quirkHits,
                         List<Divergence> divergences, List<Divergence> minimized) {
        /** How many divergences of each {@link Divergence#signature()}. */
        public Map<String, Long> bySignature() {
            Map<String, Long> out = new TreeMap<>();
            for (Divergence d : divergences) {
                out.merge(d.signature(), 1L, Long::sum);
            }
            return out;
        }
    }

    private final Observer sim;
    private final Observer kvm;
    private final List<Quirk> quirks;

    /** The simulator's KVM stats summed over every history run: filled by the sim observer {@link #simAgainstKvm} makes. */
    private final Map<String, Long> simCoverage;

    public Conformance(Observer sim, Observer kvm, List<Quirk> quirks) {
        this(sim, kvm, quirks, new TreeMap<>());
    }

    private Conformance(Observer sim, Observer kvm, List<Quirk> quirks, Map<String, Long> simCoverage) {
        this.sim = sim;
        this.kvm = kvm;
        this.quirks = List.copyOf(quirks);
        this.simCoverage = simCoverage;
    }

    /**
     * The simulator under {@code policy} against this host's /dev/kvm, with this host's quirks: what the
     * {@code conformance} command runs, and what a pasted divergence test calls.
     */
    public static Conformance simAgainstKvm(String policy) {
        Backend kvm = new KvmBackend();
        Map<String, Long> coverage = new TreeMap<>();
        return new Conformance(h -> HistoryRun.observe(new SimBackend(SimOptions.of(h.seed(), policy, null)), h, coverage),
                h -> HistoryRun.observe(kvm, h), Quirk.ofThisHost(), coverage);
    }

    /** What the histories reached in the simulator so far: its KVM stats, summed (pf_fast, mmio SPTEs, flushes...). */
    public Map<String, Long> simCoverage() {
        return new TreeMap<>(simCoverage);
    }

    /** The first divergence of {@code h}, or null if both sides saw the same at every step. */
    public Divergence check(History h) {
        List<String> a = sim.apply(h);
        List<String> b = kvm.apply(h);
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            if (!a.get(i).equals(b.get(i))) {
                return new Divergence(h, i, a.get(i), b.get(i), quirkFor(h.ops().get(i), a.get(i), b.get(i)), a, b);
            }
        }
        if (a.size() != b.size()) {
            int i = n;
            String sa = i < a.size() ? a.get(i) : "(history ended)";
            String sb = i < b.size() ? b.get(i) : "(history ended)";
            return new Divergence(h, Math.min(i, h.ops().size() - 1), sa, sb, null, a, b);
        }
        return null;
    }

    private Quirk quirkFor(Op op, String a, String b) {
        for (Quirk q : quirks) {
            if (q.explains(op, a, b)) {
                return q;
            }
        }
        return null;
    }

    /**
     * Histories from {@code seed}, {@code seed + 1}, ... of {@code stepsPerHistory} steps until {@code budget}
     * steps ran; the first unexplained divergence of each signature is minimized (at most {@code maxMinimized}).
     */
    public Report run(long seed, long budget, int stepsPerHistory, int maxMinimized) {
        Map<String, Long> byKind = new TreeMap<>();
        Map<Quirk, Long> hits = new TreeMap<>();
        List<Divergence> found = new ArrayList<>();
        List<Divergence> minimized = new ArrayList<>();
        long steps = 0;
        int histories = 0;
        for (long s = seed; steps < budget; s++) {
            History h = History.generate(s, (int) Math.min(stepsPerHistory, budget - steps));
            Divergence d = check(h);
            int ran = d == null ? h.ops().size() : d.step() + 1;
            for (Op op : h.ops().subList(0, ran)) {
                byKind.merge(op.kind(), 1L, Long::sum);
            }
            steps += ran;
            histories++;
            if (d == null) {
                continue;
            }
            if (d.quirk() != null) {
                hits.merge(d.quirk(), 1L, Long::sum);
                continue;
            }
            boolean newKind = found.stream().noneMatch(f -> f.signature().equals(d.signature()));
            found.add(d);
            if (newKind && minimized.size() < maxMinimized) {
                minimized.add(new Shrinker(this).minimize(d));
            }
        }
        return new Report(histories, steps, byKind, hits, found, minimized);
    }
}
