// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Sys;
import java.io.PrintStream;

/**
 * The kselftest result conventions (tools/testing/selftests/kselftest.h and kvm/lib/assert.c): exit codes,
 * the skip line, and the assertion-failure report.
 */
public final class Ksft {
    public static final int PASS = 0;
    public static final int FAIL = 1;
    public static final int XFAIL = 2;
    public static final int XPASS = 3;
    public static final int SKIP = 4;
    /** What lib/assert.c exits with on a failed TEST_ASSERT. */
    public static final int ASSERT_FAILED = 254;

    private Ksft() {
    }

    /** The body of a test's main(): returns normally to pass, or throws to fail or skip. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /** The outcome of {@link #run}: the exit code and, for failures and skips, the reason. */
    public record Result(int exitCode, String reason) {
        public String status() {
            switch (exitCode) {
                case PASS:
                    return "pass";
                case SKIP:
                    return "skip";
                default:
                    return "fail";
            }
        }
    }

    /**
     * Runs a test body with the kselftest conventions: a {@link TestSkipped} prints "1..0 # SKIP reason"
     * (exit 4), a {@link TestAssertionFailure} or any other exception prints the assertion report to
     * {@code err} (exit 254; EACCES turns into a skip as in test_assert()).
     */
    public static Result run(Body body, PrintStream out, PrintStream err) {
        try {
            body.run();
            return new Result(PASS, null);
        } catch (TestSkipped e) {
            out.println("1..0 # SKIP " + e.getMessage());
            return new Result(SKIP, e.getMessage());
        } catch (TestAssertionFailure e) {
            report(e.expression(), e.errno(), e.getMessage(), e, err);
            if (e.errno() == Errno.EACCES.value()) {
                out.println("Access denied - Exiting, skipping test");
                return new Result(SKIP, "Access denied");
            }
            return new Result(ASSERT_FAILED, e.getMessage());
        } catch (Exception | Error e) {
            int errno = new TestAssertionFailure(null, null, e).errno();
            report(e.getClass().getSimpleName(), errno, String.valueOf(e.getMessage()), e, err);
            return new Result(ASSERT_FAILED, e.toString());
        }
    }

    /** The "==== Test Assertion Failure ====" block: location, expression, pid/tid/errno, stack, message. */
    static void report(String expression, int errno, String message, Throwable where, PrintStream err) {
        StackTraceElement site = firstTestFrame(where);
        err.println("==== Test Assertion Failure ====");
        err.printf("  %s:%d: %s%n", site == null ? "?" : site.getFileName(), site == null ? 0 : site.getLineNumber(),
                expression == null ? "Failed" : expression);
        Errno e = Errno.of(errno);
        err.printf("  pid=%d tid=%d errno=%d - %s%n", LibC.getpid(), Sys.gettid(), errno,
                errno == 0 ? "Success" : e == null ? "Unknown error" : e.message());
        StackTraceElement[] stack = where.getStackTrace();
        for (int i = 0; i < Math.min(stack.length, 12); i++) {
            err.printf("     %d\t%s%n", i + 1, stack[i]);
        }
        for (Throwable c = where.getCause(); c != null; c = c.getCause()) {
            err.printf("  caused by: %s%n", c);
        }
        if (message != null) {
            err.println("  " + message);
        }
        err.flush();
    }

    private static StackTraceElement firstTestFrame(Throwable t) {
        for (StackTraceElement s : t.getStackTrace()) {
            if (!s.getClassName().startsWith("dev.kvmharness.harness.Test") && !s.getClassName().startsWith("java.")) {
                return s;
            }
        }
        return t.getStackTrace().length > 0 ? t.getStackTrace()[0] : null;
    }
}
