// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One line on standard output per {@link OnBackends} run: {@code [kvm] DirtyLogTest.dirtyLog(Vm): passed}, or
 * failed, aborted or skipped with the reason. Surefire and Failsafe print a run's output on the console but name
 * the run itself by index ({@code [1]}, {@code [2]}) and keep skip reasons to the XML report; these lines say
 * which backend each run was and why one did not run. {@code -Dkvmharness.junit.runLines=false} turns them off.
 */
final class RunLine implements TestWatcher {
    static final String PROPERTY = "kvmharness.junit.runLines";
    private final String backend;

    RunLine(String backend) {
        this.backend = backend;
    }

    @Override
    public void testSuccessful(ExtensionContext context) {
        print(context, "passed");
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        print(context, "FAILED: " + firstLine(cause));
    }

    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
        print(context, "aborted: " + firstLine(cause));
    }

    @Override
    public void testDisabled(ExtensionContext context, Optional<String> reason) {
        print(context, "skipped: " + reason.orElse("disabled"));
    }

    /** The message's first line, without the backend BackendFailure put before it (the line starts with it). */
    private String firstLine(Throwable t) {
        String m = t == null ? "" : String.valueOf(t.getMessage());
        String tag = "[" + backend + "] ";
        if (m.startsWith(tag)) {
            m = m.substring(tag.length());
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private void print(ExtensionContext context, String outcome) {
        if ("false".equals(System.getProperty(PROPERTY))) {
            return;
        }
        String test = context.getTestClass().map(Class::getSimpleName).orElse("?") + "."
                + context.getParent().map(ExtensionContext::getDisplayName).orElse(context.getDisplayName());
        System.out.println("[" + backend + "] " + test + ": " + outcome);
    }
}
