// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.kvm.KvmBackend;
import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.harness.sim.SimOptions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

/** {@link OnBackends}: one invocation per backend, each with its own extensions. */
final class BackendInvocations implements TestTemplateInvocationContextProvider {
    /** The system property holding the simulator's seed. */
    static final String SEED_PROPERTY = "kvmharness.seed";
    /** What the C selftests print: their random() is never seeded. */
    static final long DEFAULT_SEED = 0x6b8b4567L;

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return AnnotationSupport.isAnnotated(context.getTestMethod(), OnBackends.class);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        OnBackends on = AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), OnBackends.class).orElseThrow();
        return Arrays.stream(on.value()).map(name -> invocation(backend(name)));
    }

    static long seed() {
        String s = System.getProperty(SEED_PROPERTY);
        return s == null || s.isBlank() ? DEFAULT_SEED : Long.decode(s.trim());
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
                return List.of(new BackendRun(backend));
            }
        };
    }
}
