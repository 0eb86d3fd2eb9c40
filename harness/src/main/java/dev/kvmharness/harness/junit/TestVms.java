// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.Vm;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The VMs of one run, by the place of their {@code Vm} parameter among the test's {@code Vm} parameters, each
 * with its stats at creation. Kept in the run's store: JUnit closes it when the run ends, and it closes every VM
 * it made, the last made first, even when one of them fails to close.
 */
final class TestVms implements ExtensionContext.Store.CloseableResource {
    /** A VM and its stats when it was handed to the test. */
    record Made(Vm vm, Stats before) {
    }

    private final List<Made> byOrdinal = new ArrayList<>();
    private final List<Vm> creationOrder = new ArrayList<>();

    /** VM number {@code ordinal}, made by {@code create} the first time it is asked for. */
    Vm get(int ordinal, Supplier<Vm> create) {
        while (byOrdinal.size() <= ordinal) {
            byOrdinal.add(null);
        }
        Made m = byOrdinal.get(ordinal);
        if (m == null) {
            Vm vm = create.get();
            creationOrder.add(vm);
            m = new Made(vm, vm.stats());
            byOrdinal.set(ordinal, m);
        }
        return m.vm();
    }

    /** The VMs made, by ordinal; null where a {@code Vm} parameter was not resolved. */
    List<Made> made() {
        return byOrdinal;
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (int i = creationOrder.size() - 1; i >= 0; i--) {
            try {
                creationOrder.get(i).close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        creationOrder.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
