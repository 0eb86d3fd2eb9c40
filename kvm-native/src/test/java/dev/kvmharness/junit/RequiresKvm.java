// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The test needs a usable /dev/kvm: without one it is skipped with the reason (never passed silently), the
 * JUnit counterpart of the selftests' open_path_or_exit() skip.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(KvmAvailableCondition.class)
public @interface RequiresKvm {
}
