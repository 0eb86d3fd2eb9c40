// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.junit;

import dev.kvmharness.kvm.Kvm;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Disables a test, naming the reason, when /dev/kvm is missing or unusable. */
public final class KvmAvailableCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> reason = Kvm.unavailableReason();
        return reason.map(r -> ConditionEvaluationResult.disabled("KVM unavailable: " + r))
                .orElseGet(() -> ConditionEvaluationResult.enabled("/dev/kvm is usable"));
    }
}
