// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import java.util.ArrayList;
import java.util.List;

/**
 * Makes a diverging history as short as it will go while it still diverges without a quirk to explain it: cut
 * after the diverging step, then delete chunks of steps, halving the chunk size (delta debugging's complement
 * removal), then single steps until none can go. Every candidate is run on both sides, so the result is a
 * history that diverges, not one that is assumed to.
 */
public final class Shrinker {
    /** Candidates tried at most, so a flaky divergence cannot keep the minimizer busy forever. */
    static final int MAX_TRIES = 2000;
    private final Conformance conformance;
    private int tries;

    public Shrinker(Conformance conformance) {
        this.conformance = conformance;
    }

    /** The shortest diverging history found from {@code d}; {@code d} itself (cut after its step) if nothing shorter diverges. */
    public Conformance.Divergence minimize(Conformance.Divergence d) {
        Conformance.Divergence best = d;
        Conformance.Divergence cut = attempt(d.prefix());
        if (cut != null) {
            best = cut;
        }
        for (int chunk = Math.max(1, best.history().ops().size() / 2); chunk >= 1; chunk /= 2) {
            boolean removed = true;
            while (removed) {
                removed = false;
                List<Op> ops = best.history().ops();
                for (int start = 0; start < ops.size() && tries < MAX_TRIES; start += chunk) {
                    List<Op> shorter = new ArrayList<>(ops.subList(0, start));
                    shorter.addAll(ops.subList(Math.min(ops.size(), start + chunk), ops.size()));
                    if (shorter.isEmpty()) {
                        continue;
                    }
                    Conformance.Divergence again = attempt(best.history().withOps(shorter));
                    if (again != null) {
                        best = again;
                        removed = true;
                        break;
                    }
                }
            }
        }
        return best;
    }

    /** The candidate's divergence, cut after its step, if it has one no quirk explains; else null. */
    private Conformance.Divergence attempt(History candidate) {
        tries++;
        Conformance.Divergence d = conformance.check(candidate);
        if (d == null || d.quirk() != null) {
            return null;
        }
        return d.step() + 1 < candidate.ops().size() ? conformance.check(d.prefix()) : d;
    }

    /** Candidates run so far. */
    public int tries() {
        return tries;
    }
}
