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
 * Runs a test once per backend: on the TDP MMU simulator ({@code sim}) and on /dev/kvm ({@code kvm}), or on the
 * ones named. Each run is a JUnit test of its own, displayed {@code [sim]} or {@code [kvm]}; a backend that cannot
 * run here (no /dev/kvm) is skipped with the reason, never passed, and so is one left out by
 * {@code -Dkvmharness.backends=sim} (or {@code kvm}).
 *
 * <p>On a method, the method is the test. On a class, every method of the class (and of its {@code @Nested}
 * classes) annotated {@link TestTemplate} runs on the class's backends; a method's own {@code @OnBackends} names
 * its backends instead. Plain {@code @Test} methods of such a class stay single tests, without the parameters
 * below.
 *
 * <p>Parameters of type {@link dev.kvmharness.harness.Backend}, {@link dev.kvmharness.harness.Vm} and
 * {@link dev.kvmharness.harness.Vcpu} are provided: each {@code Vm} parameter is a VM of its own, shaped by
 * {@link WithVm}; the n-th {@code Vcpu} parameter is vCPU n of the first VM. Every VM is closed after the test.
 * The simulator's seed is {@code -Dkvmharness.seed=N} (default 0x6b8b4567, as the C tests print) and is named in
 * the failure of a sim run; every failure's message starts with the backend, {@code [sim]} or {@code [kvm]}.
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(BackendInvocations.class)
public @interface OnBackends {
    /** The backends to run on, by name. */
    String[] value() default {"sim", "kvm"};
}
