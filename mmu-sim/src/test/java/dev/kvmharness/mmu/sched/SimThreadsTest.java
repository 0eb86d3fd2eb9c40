// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Which Java threads carry spawned simulated threads ({@link SimThreads}). Surefire runs the sched tests twice: on
 * the build's JDK 17 (platform threads) and, where Temurin 25 is installed, on it (virtual threads on one carrier).
 */
class SimThreadsTest {
    private static boolean isVirtual(Thread t) throws ReflectiveOperationException {
        if (Runtime.version().feature() < 21) {
            return false;
        }
        Method m = Thread.class.getMethod("isVirtual");
        return (boolean) m.invoke(t);
    }

    @Test
    void spawnedThreadsAreVirtualWhereTheJdkHasThemWithoutMonitorPinning() throws Exception {
        boolean expected = Runtime.version().feature() >= 24
                && !"platform".equals(System.getProperty(SimThreads.PROPERTY));
        AtomicReference<Thread> carrier = new AtomicReference<>();
        try (SimScheduler s = new SimScheduler(1, CostModel.defaults())) {
            s.attachCurrent("main", 0);
            SimThread t = s.spawn("vcpu", () -> carrier.set(Thread.currentThread()));
            s.join(t);
            s.detachCurrent();
        }
        assertThat(isVirtual(carrier.get())).as("spawned thread virtual on Java %s", Runtime.version()).isEqualTo(expected);
        assertThat(carrier.get().getName()).isEqualTo("sim-vcpu");
        assertThat(carrier.get().isDaemon()).as("a stuck simulated thread must not keep the JVM alive").isTrue();
    }

    @Test
    void theBatonNotTheJvmOrdersTheThreads() {
        // Many threads that each charge a different cost and record their turns: the order is the virtual-time
        // order whatever carries them.
        List<String> order = new ArrayList<>();
        try (SimScheduler s = new SimScheduler(7, CostModel.defaults())) {
            s.attachCurrent("main", 0);
            List<SimThread> ts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int id = i;
                ts.add(s.spawn("t" + i, () -> {
                    for (int k = 0; k < 3; k++) {
                        s.charge(Cost.LOCK, 8 - id);
                        s.yieldPoint();
                        order.add("t" + id + "@" + s.now());
                    }
                }));
            }
            for (SimThread t : ts) {
                s.join(t);
            }
            s.detachCurrent();
        }
        assertThat(order).hasSize(24);
        List<Long> times = order.stream().map(e -> Long.parseLong(e.substring(e.indexOf('@') + 1))).toList();
        assertThat(times).as("turns in virtual-time order: %s", order).isSorted();
    }
}
