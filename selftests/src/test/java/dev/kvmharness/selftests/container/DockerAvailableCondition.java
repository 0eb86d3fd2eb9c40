// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.container;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

/** Disables a test, naming the reason, when Testcontainers cannot reach a Docker engine. */
public final class DockerAvailableCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return DockerClientFactory.instance().isDockerAvailable()
                ? ConditionEvaluationResult.enabled("Docker engine reachable")
                : ConditionEvaluationResult.disabled("Docker unavailable: no engine reachable (run ci/setup-docker.sh)");
    }
}
