// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.Vm;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The VMs of one run: one per ordinal, made once, all closed (the last made first) even when one close fails. */
class TestVmsTest {
    private final List<String> closed = new ArrayList<>();

    /** A VM that only knows its name, its identity and how to close (stats() is null: nothing here reads it). */
    private Vm vm(String name, boolean failsToClose) {
        return (Vm) Proxy.newProxyInstance(Vm.class.getClassLoader(), new Class<?>[] {Vm.class}, (proxy, m, args) -> {
            switch (m.getName()) {
                case "close" -> {
                    closed.add(name);
                    if (failsToClose) {
                        throw new IllegalStateException(name + " would not close");
                    }
                    return null;
                }
                case "toString" -> {
                    return name;
                }
                case "equals" -> {
                    return proxy == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                default -> {
                    return null;
                }
            }
        });
    }

    @Test
    void eachOrdinalIsMadeOnceAndEveryVmIsClosedLastFirst() {
        TestVms vms = new TestVms();
        Vm a = vms.get(0, () -> vm("a", false));
        Vm b = vms.get(2, () -> vm("b", false));
        assertThat(vms.get(0, () -> vm("again", false))).as("ordinal 0 again").isSameAs(a);
        Vm c = vms.get(1, () -> vm("c", false));
        assertThat(vms.made()).extracting(m -> m.vm()).containsExactly(a, c, b);
        vms.close();
        assertThat(closed).containsExactly("c", "b", "a");
    }

    @Test
    void aVmThatFailsToCloseDoesNotKeepTheOthersOpen() {
        TestVms vms = new TestVms();
        vms.get(0, () -> vm("a", false));
        vms.get(1, () -> vm("b", true));
        vms.get(2, () -> vm("c", true));
        assertThatThrownBy(vms::close).hasMessage("c would not close")
                .satisfies(t -> assertThat(t.getSuppressed()).extracting(Throwable::getMessage).containsExactly("b would not close"));
        assertThat(closed).containsExactly("c", "b", "a");
    }
}
