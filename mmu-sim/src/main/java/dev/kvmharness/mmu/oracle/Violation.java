// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.oracle;

import java.util.List;

/**
 * A stale translation the oracle caught: what went wrong, on which vCPU, at what virtual time, and the
 * operations that led to it (most recent last).
 */
public record Violation(String what, int vcpu, long gfn, long nowNs, List<String> history) {
    @Override
    public String toString() {
        return String.format("vCPU %d at %d ns, gfn 0x%x: %s%n  after: %s", vcpu, nowNs, gfn, what, String.join("\n         ", history));
    }
}
