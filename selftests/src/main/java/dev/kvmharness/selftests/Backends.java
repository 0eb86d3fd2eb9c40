// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.kvm.KvmBackend;

/** The --backend names. */
final class Backends {
    /** kvm until the simulator lands (issue "mmu-sim"), then sim. */
    static final String DEFAULT = "kvm";

    private Backends() {
    }

    /** The backend for a --backend value; a usage error for anything else. */
    static Backend byName(String name) {
        switch (name) {
            case "kvm":
                return new KvmBackend();
            case "sim":
                throw new IllegalArgumentException("backend 'sim' is not available yet: the TDP MMU simulator (mmu-sim) "
                        + "has not landed; use --backend kvm");
            default:
                throw new IllegalArgumentException("unknown backend '" + name + "' (expected kvm or sim)");
        }
    }
}
