// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import dev.kvmharness.kvm.Kvm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/** Runs sample test classes through the Jupiter engine, as a user's build would, for the extension's tests. */
final class EngineRuns {
    private EngineRuns() {
    }

    static EngineExecutionResults run(Class<?> samples) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(samples)).execute();
    }

    static EngineExecutionResults run(Class<?> samples, String method, Class<?>... params) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectMethod(samples, method, params)).execute();
    }

    /** Whether /dev/kvm can run here: the kvm runs of the samples run, or are skipped with the reason. */
    static boolean kvmHere() {
        return Kvm.unavailableReason().isEmpty();
    }

    /** What {@code run} printed on standard output (the extension's run lines), beside its result. */
    record Printed<T>(T result, String out) {
    }

    static <T> Printed<T> capturingStdout(Supplier<T> run) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            T r = run.get();
            return new Printed<>(r, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    static List<String> displayNames(List<Event> events) {
        return events.stream().map(e -> e.getTestDescriptor().getDisplayName()).toList();
    }

    static Throwable thrown(Event e) {
        return e.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
    }

    static String skipReason(Event e) {
        return e.getPayload(String.class).orElse("");
    }
}
