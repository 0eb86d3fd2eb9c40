// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.kvm.KvmBackend;
import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.harness.sim.SimOptions;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * {@link OnBackends}: one invocation per backend, displayed {@code [sim]} / {@code [kvm]}, each with its own
 * extensions. A method's {@code @OnBackends} is its own template; on a class it makes the class's
 * {@code @TestTemplate} methods templates. Only methods annotated {@code @TestTemplate} themselves are taken
 * that way, not {@code @ParameterizedTest} or {@code @RepeatedTest} (on which {@code @TestTemplate} is a
 * meta-annotation), whose own providers would add their invocations to these.
 */
final class BackendInvocations implements TestTemplateInvocationContextProvider {
    /** The system property holding the simulator's seed. */
    static final String SEED_PROPERTY = "kvmharness.seed";
    /** The system property naming the backends to run, comma-separated; unset: all. */
    static final String BACKENDS_PROPERTY = "kvmharness.backends";
    /** What the C selftests print: their random() is never seeded. */
    static final long DEFAULT_SEED = 0x6b8b4567L;
    private static final Set<String> KNOWN = Set.of("sim", "kvm");

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        Method m = context.getRequiredTestMethod();
        return AnnotationSupport.isAnnotated(m, OnBackends.class)
                || (m.isAnnotationPresent(TestTemplate.class) && Annotations.nearest(context, OnBackends.class).isPresent());
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        OnBackends on = Annotations.nearest(context, OnBackends.class).orElseThrow();
        selection();
        return Arrays.stream(on.value()).map(name -> invocation(backend(name)));
    }

    static long seed() {
        String s = System.getProperty(SEED_PROPERTY);
        return s == null || s.isBlank() ? DEFAULT_SEED : Long.decode(s.trim());
    }

    /** The backends -Dkvmharness.backends names (a typo fails every run rather than skipping them all). */
    static Set<String> selection() {
        String s = System.getProperty(BACKENDS_PROPERTY);
        if (s == null || s.isBlank()) {
            return KNOWN;
        }
        Set<String> names = Arrays.stream(s.split(",")).map(String::trim).filter(n -> !n.isEmpty()).collect(Collectors.toSet());
        for (String n : names) {
            if (!KNOWN.contains(n)) {
                throw new IllegalArgumentException("-D" + BACKENDS_PROPERTY + "=" + s + ": unknown backend '" + n + "' (sim or kvm)");
            }
        }
        return names;
    }

    static boolean selected(String name) {
        return selection().contains(name);
    }

    static Backend backend(String name) {
        return switch (name) {
            case "sim" -> new SimBackend(SimOptions.defaults(seed()));
            case "kvm" -> new KvmBackend();
            default -> throw new IllegalArgumentException("@OnBackends: unknown backend '" + name + "' (sim or kvm)");
        };
    }

    private static TestTemplateInvocationContext invocation(Backend backend) {
        return new TestTemplateInvocationContext() {
            @Override
            public String getDisplayName(int invocationIndex) {
                return "[" + backend.name() + "]";
            }

            @Override
            public List<Extension> getAdditionalExtensions() {
                return List.of(new BackendRun(backend), new VmParameters(backend), new RunLine(backend.name()));
            }
        };
    }
}
