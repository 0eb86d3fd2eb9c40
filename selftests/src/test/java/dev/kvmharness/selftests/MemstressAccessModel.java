// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Which pages memstress_guest_code() writes in each pass, computed on the host the way the guest computes it: per
 * vCPU a Park-Miller generator (guest_random_u32()) seeded with guest_random_seed + vcpu_idx, one draw per access
 * for __guest_random_bool(write_percent) and, with random access, one before it for the page. The first pass
 * (populate) is in order with 100% writes, as dirty_log_perf_test sets it; the others use the test's -w and -a.
 * Since every backend runs the same guest, the dirty log of an iteration must report exactly these pages.
 */
final class MemstressAccessModel {
    private MemstressAccessModel() {
    }

    /**
     * The pages (indexes into the whole test region) written in pass 0 (populate) to pass {@code iterations}.
     *
     * @param pagesPerVcpu -b in pages
     */
    static List<BitSet> writtenPerPass(int nrVcpus, long pagesPerVcpu, boolean partition, int writePercent,
                                       boolean randomAccess, long seed, int iterations) {
        List<BitSet> out = new ArrayList<>();
        for (int pass = 0; pass <= iterations; pass++) {
            out.add(new BitSet());
        }
        for (int v = 0; v < nrVcpus; v++) {
            long state = (seed + v) & 0xffffffffL;
            long pages = partition ? pagesPerVcpu : nrVcpus * pagesPerVcpu;
            long base = partition ? v * pagesPerVcpu : 0;
            for (int pass = 0; pass <= iterations; pass++) {
                boolean random = pass > 0 && randomAccess;
                int percent = pass == 0 ? 100 : writePercent;
                for (long i = 0; i < pages; i++) {
                    long page = i;
                    if (random) {
                        state = next(state);
                        page = state % pages;
                    }
                    state = next(state);
                    if (state % 100 < percent) {
                        out.get(pass).set((int) (base + page));
                    }
                }
            }
        }
        return out;
    }

    /** guest_random_u32(). */
    static long next(long state) {
        return state * 48271 % 0x7fffffffL;
    }
}
