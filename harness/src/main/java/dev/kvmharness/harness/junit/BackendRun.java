// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.TestSkipped;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * One {@link OnBackends} run on one backend: skips it where the backend is missing, not selected
 * ({@code -Dkvmharness.backends}), or lacks a {@link RequiresHostCap}; turns a kselftest skip
 * ({@link TestSkipped}) into JUnit's aborted; names the backend in a failure, and the seed in a sim failure.
 */
final class BackendRun implements ExecutionCondition, TestExecutionExceptionHandler {
    private final Backend backend;

    BackendRun(Backend backend) {
        this.backend = backend;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (!BackendInvocations.selected(backend.name())) {
            return ConditionEvaluationResult.disabled(backend.name() + " not selected: -D" + BackendInvocations.BACKENDS_PROPERTY
                    + "=" + System.getProperty(BackendInvocations.BACKENDS_PROPERTY));
        }
        Optional<String> reason = backend.unavailableReason();
        if (reason.isPresent()) {
            return ConditionEvaluationResult.disabled(backend.name() + " unavailable: " + reason.get());
        }
        for (RequiresHostCap req : Annotations.all(context, RequiresHostCap.class)) {
            for (HostCap cap : req.value()) {
                if (!cap.offeredBy(backend)) {
                    return ConditionEvaluationResult.disabled(backend.name() + " host lacks " + cap + " (" + cap.description() + ")");
                }
            }
        }
        return ConditionEvaluationResult.enabled(backend.name() + " is available");
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable t) throws Throwable {
        if (t instanceof TestSkipped s) {
            throw new TestAbortedException("[" + backend.name() + "] kselftest skip: " + s.getMessage(), s);
        }
        if (t instanceof TestAbortedException) {
            throw t;
        }
        Throwable named = BackendFailure.naming(backend.name(), t);
        if ("sim".equals(backend.name())) {
            named.addSuppressed(new AssertionError(String.format("sim run with seed 0x%x; replay with -D%s=0x%x",
                    BackendInvocations.seed(), BackendInvocations.SEED_PROPERTY, BackendInvocations.seed())));
        }
        throw named;
    }
}
