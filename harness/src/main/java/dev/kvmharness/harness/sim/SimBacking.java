// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.mmu.host.Backing;

/** The simulated host mapping behind each private backing source. */
final class SimBacking {
    private SimBacking() {
    }

    static Backing of(BackingSource src) {
        return switch (src) {
            case ANONYMOUS -> Backing.ANON;
            case ANONYMOUS_THP -> Backing.ANON_THP;
            case ANONYMOUS_HUGETLB, ANONYMOUS_HUGETLB_2MB -> src.pageSize() == (1L << 30) ? Backing.ANON_HUGETLB_1G : Backing.ANON_HUGETLB_2M;
            case ANONYMOUS_HUGETLB_1GB -> Backing.ANON_HUGETLB_1G;
            default -> throw new IllegalArgumentException(src.cliName() + " is a shared source");
        };
    }
}
