// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.sys.SyscallException;
import java.util.Locale;

/**
 * TEST_ASSERT / TEST_FAIL: the test failed. {@link Ksft#run} prints the "==== Test Assertion Failure ===="
 * report to stderr and exits with 254, like lib/assert.c.
 */
public class TestAssertionFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String expression;

    public TestAssertionFailure(String message) {
        this(null, message, null);
    }

    public TestAssertionFailure(String expression, String message, Throwable cause) {
        super(message, cause);
        this.expression = expression;
    }

    /** The asserted expression as source text, or null for TEST_FAIL. */
    public String expression() {
        return expression;
    }

    /** The errno of the failed call behind this failure, 0 if none. */
    public int errno() {
        for (Throwable t = this; t != null; t = t.getCause()) {
            if (t instanceof SyscallException) {
                return ((SyscallException) t).errno();
            }
        }
        return 0;
    }

    /** REPORT_GUEST_ASSERT: a GUEST_ASSERT failed in the guest; the message is the guest's. */
    public static TestAssertionFailure guestAssert(Ucall uc) {
        return new TestAssertionFailure("guest assert", uc.message(), null);
    }

    /** TEST_ASSERT(cond, fmt, ...). */
    public static void check(boolean cond, String expression, String format, Object... args) {
        if (!cond) {
            throw new TestAssertionFailure(expression, String.format(Locale.ROOT, format, args), null);
        }
    }

    /** TEST_FAIL(fmt, ...). */
    public static TestAssertionFailure fail(String format, Object... args) {
        return new TestAssertionFailure("Failed", String.format(Locale.ROOT, format, args), null);
    }
}
