// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Skips an {@link OnBackends} run, naming the capability, on a backend whose host lacks it (TEST_REQUIRE of a
 * KVM_CAP_* or a host feature). On a class it applies to every run of the class, in addition to the method's.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface RequiresHostCap {
    HostCap[] value();
}
