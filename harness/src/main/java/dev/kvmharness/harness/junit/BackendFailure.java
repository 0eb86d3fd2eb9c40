// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.TestAssertionFailure;
import org.opentest4j.AssertionFailedError;

/**
 * A test's failure, its message led by the backend that failed ({@code [kvm] expected: <1> but was: <2>}).
 * Maven's console names the two runs of an {@link OnBackends} test by index ({@code [1]}, {@code [2]}), and its
 * summary of failures shows only the message: this is where a reader of the console learns which backend it was.
 * The original stays the cause and lends its stack trace, so the failing line is the test's; an assertion stays
 * an assertion (a failure, with expected and actual for IDEs' diffs), and so does the harness's TEST_ASSERT
 * ({@link TestAssertionFailure}, a guest assert included); anything else stays an error.
 */
final class BackendFailure {
    private BackendFailure() {
    }

    static Throwable naming(String backend, Throwable t) {
        // The harness's TEST_ASSERT (a guest assert included) is an assertion too, a kselftest FAIL.
        boolean assertion = t instanceof AssertionError || t instanceof TestAssertionFailure;
        String message = "[" + backend + "] " + (assertion ? String.valueOf(t.getMessage()) : t.toString());
        Throwable named;
        if (t instanceof AssertionFailedError a) {
            named = new AssertionFailedError(message, a.getExpected(), a.getActual(), t);
        } else if (assertion) {
            named = new AssertionError(message, t);
        } else {
            named = new BackendError(message, t);
        }
        named.setStackTrace(t.getStackTrace());
        return named;
    }

    /** An error (not an assertion) a run threw, named by its backend. */
    static final class BackendError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BackendError(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
