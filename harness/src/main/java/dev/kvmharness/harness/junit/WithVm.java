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
 * The shape of each {@link dev.kvmharness.harness.Vm} handed to an {@link OnBackends} test (the arguments of
 * __vm_create_with_vcpus): vCPUs, the guest program they start in, extra slot-0 pages, and how long one KVM_RUN
 * may take before the vCPU is kicked out and the test fails. On a method, or on the class for all its methods
 * (the method's wins).
 *
 * <p>The guest program is named one of two ways, exactly one of them given:
 * <ul>
 *   <li>{@link #guest()}: a static method, like {@code @MethodSource}'s: {@code "spin"} in the test class (or an
 *       enclosing one) or {@code "com.example.Guests#spin"} elsewhere, either
 *       {@code static void spin(GuestBuilder g)} (the program is named after the method) or
 *       {@code static GuestProgram spin()};</li>
 *   <li>{@link #program()}: a class with a no-argument constructor implementing {@code Supplier<GuestProgram>}.</li>
 * </ul>
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface WithVm {
    /** The static method that defines the guest program. */
    String guest() default "";

    /** The guest program, made by a no-argument {@code Supplier<GuestProgram>}. */
    Class<? extends Supplier<GuestProgram>> program() default NoProgram.class;

    int vcpus() default 1;

    long extraMemPages() default 0;

    /** The KVM_RUN watchdog, seconds. */
    long runTimeoutSeconds() default 120;

    /** {@link #program()}'s default: none given. */
    final class NoProgram implements Supplier<GuestProgram> {
        private NoProgram() {
        }

        @Override
        public GuestProgram get() {
            throw new UnsupportedOperationException("no guest program");
        }
    }
}
