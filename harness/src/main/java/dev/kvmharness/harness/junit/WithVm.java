// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.guest.GuestProgram;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.function.Supplier;

/**
 * The shape of the {@link dev.kvmharness.harness.Vm} handed to an {@link OnBackends} test (the arguments of
 * __vm_create_with_vcpus): vCPUs, the guest program they start in, extra slot-0 pages, and how long one KVM_RUN
 * may take before the vCPU is kicked out and the test fails.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface WithVm {
    /** The guest program, made by a public no-argument {@code Supplier<GuestProgram>}. */
    Class<? extends Supplier<GuestProgram>> program();

    int vcpus() default 1;

    long extraMemPages() default 0;

    /** The KVM_RUN watchdog, seconds. */
    long runTimeoutSeconds() default 120;
}
