// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.MemRegion;

/** A memslot on the simulator and the simulated host mapping(s) behind it. */
record SimMemRegion(int slot, long gpa, long size, int flags, BackingSource source, long hva, long alias)
        implements MemRegion {
}
