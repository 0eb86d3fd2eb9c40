// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.TestSkipped;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.GuestProgram;
import java.lang.reflect.Constructor;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.TestAbortedException;

/**
 * One {@link OnBackends} run on one backend: skips it where the backend or a {@link RequiresHostCap} is
 * missing, resolves {@link Backend} and {@link Vm} parameters, closes the VM afterwards and reports its stats
 * delta, turns a kselftest skip ({@link TestSkipped}) into JUnit's aborted, and names the seed in a failure.
 */
final class BackendRun implements ExecutionCondition, ParameterResolver, AfterEachCallback, TestExecutionExceptionHandler {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(BackendRun.class);
    private final Backend backend;

    BackendRun(Backend backend) {
        this.backend = backend;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> reason = backend.unavailableReason();
        if (reason.isPresent()) {
            return ConditionEvaluationResult.disabled(backend.name() + " unavailable: " + reason.get());
        }
        Optional<RequiresHostCap> req = context.getTestMethod().flatMap(m -> AnnotationSupport.findAnnotation(m, RequiresHostCap.class));
        if (req.isPresent()) {
            for (HostCap cap : req.get().value()) {
                if (!cap.offeredBy(backend.caps())) {
                    return ConditionEvaluationResult.disabled(backend.name() + " host lacks " + cap);
                }
            }
        }
        return ConditionEvaluationResult.enabled(backend.name() + " is available");
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext context) {
        Class<?> t = p.getParameter().getType();
        return t == Backend.class || t == Vm.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext context) {
        if (p.getParameter().getType() == Backend.class) {
            return backend;
        }
        WithVm shape = context.getTestMethod().flatMap(m -> AnnotationSupport.findAnnotation(m, WithVm.class))
                .orElseThrow(() -> new ParameterResolutionException("a Vm parameter needs @WithVm on " + context.getDisplayName()));
        Vm vm = backend.createVm(VmShape.of(program(shape.program()), shape.vcpus()).withExtraMemPages(shape.extraMemPages())
                .withRunTimeout(Duration.ofSeconds(shape.runTimeoutSeconds())));
        ExtensionContext.Store store = context.getStore(NS);
        store.put("vm", (ExtensionContext.Store.CloseableResource) vm::close);
        store.put("vm.instance", vm);
        store.put("stats.before", vm.stats());
        return vm;
    }

    private static GuestProgram program(Class<? extends Supplier<GuestProgram>> factory) {
        try {
            Constructor<? extends Supplier<GuestProgram>> c = factory.getDeclaredConstructor();
            c.setAccessible(true);
            return c.newInstance().get();
        } catch (ReflectiveOperationException e) {
            throw new ParameterResolutionException("@WithVm(program = " + factory.getName() + "): needs a no-argument constructor", e);
        }
    }

    /** The run's stats delta (VM stats, vCPU stats summed), as report entries {@code kvm.<backend>.<stat>}. */
    @Override
    public void afterEach(ExtensionContext context) {
        ExtensionContext.Store store = context.getStore(NS);
        Vm vm = store.get("vm.instance", Vm.class);
        Stats before = store.get("stats.before", Stats.class);
        if (vm == null || before == null) {
            return;
        }
        Stats.Delta d = vm.stats().delta(before);
        Map<String, String> entries = new LinkedHashMap<>();
        d.vm().forEach((name, v) -> entries.put("kvm." + backend.name() + "." + name, Long.toString(v[0])));
        d.vcpuTotal().forEach((name, v) -> entries.put("kvm." + backend.name() + ".vcpu." + name, Long.toString(v[0])));
        context.publishReportEntry(entries);
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable t) throws Throwable {
        if (t instanceof TestSkipped s) {
            throw new TestAbortedException("kselftest skip on " + backend.name() + ": " + s.getMessage(), s);
        }
        if ("sim".equals(backend.name())) {
            t.addSuppressed(new AssertionError(String.format("sim run with seed 0x%x; replay with -D%s=0x%x",
                    BackendInvocations.seed(), BackendInvocations.SEED_PROPERTY, BackendInvocations.seed())));
        }
        throw t;
    }
}
