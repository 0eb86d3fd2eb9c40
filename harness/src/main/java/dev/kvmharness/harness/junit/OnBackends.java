// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the test method once per backend: on the TDP MMU simulator ({@code sim}) and on /dev/kvm ({@code kvm}),
 * or on the ones named. Each run is a JUnit test of its own, {@code [sim]} or {@code [kvm]}; a backend that
 * cannot run here (no /dev/kvm) is skipped with the reason, never passed. Parameters of type
 * {@link dev.kvmharness.harness.Backend} and {@link dev.kvmharness.harness.Vm} (shaped by {@link WithVm}) are
 * provided; the VM is closed after the test. The simulator's seed is {@code -Dkvmharness.seed=N} (default
 * 0x6b8b4567, as the C tests print) and is named in the failure of a sim run.
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(BackendInvocations.class)
public @interface OnBackends {
    /** The backends to run on, by name. */
    String[] value() default {"sim", "kvm"};
}
