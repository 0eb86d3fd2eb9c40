// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.sys.IoctlException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The kselftest conventions: exit codes, the skip line, the assertion report. */
class KsftTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private Ksft.Result run(Ksft.Body body) {
        return Ksft.run(body, new PrintStream(out, true), new PrintStream(err, true));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void passIsExitZeroAndSilent() {
        assertThat(run(() -> { }).exitCode()).isEqualTo(Ksft.PASS);
        assertThat(out()).isEmpty();
        assertThat(err()).isEmpty();
    }

    @Test
    void skipPrintsThePlanLineAndExits4() {
        Ksft.Result r = run(() -> TestSkipped.require(false, "/dev/kvm not present"));
        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(r.status()).isEqualTo("skip");
        assertThat(out()).isEqualTo("1..0 # SKIP /dev/kvm not present" + System.lineSeparator());
    }

    @Test
    void failedAssertionPrintsTheReportAndExits254() {
        Ksft.Result r = run(() -> TestAssertionFailure.check(1 + 1 == 3, "1 + 1 == 3", "math is broken: %d", 2));
        assertThat(r.exitCode()).isEqualTo(254);
        assertThat(r.status()).isEqualTo("fail");
        assertThat(err()).startsWith("==== Test Assertion Failure ====")
                .contains("KsftTest.java:").contains(": 1 + 1 == 3")
                .containsPattern("pid=\\d+ tid=\\d+ errno=0 - Success")
                .contains("  math is broken: 2");
    }

    @Test
    void failedIoctlReportsItsErrno() {
        Ksft.Result r = run(() -> {
            throw new IoctlException("KVM_SET_USER_MEMORY_REGION", 17);
        });
        assertThat(r.exitCode()).isEqualTo(254);
        assertThat(err()).contains("errno=17 - File exists").contains("KVM_SET_USER_MEMORY_REGION failed: EEXIST");
    }

    @Test
    void eaccesTurnsIntoASkipAsInTestAssert() {
        Ksft.Result r = run(() -> {
            throw new TestAssertionFailure("open", "cannot open /dev/kvm", new IoctlException("open", 13));
        });
        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(out()).contains("skipping test");
    }

    @Test
    void guestAssertCarriesTheGuestsMessage() {
        Ucall abort = new Ucall(Ucall.Kind.ABORT, 0, "Failed guest assert: r0 ULT r1", new long[] {12, 10});
        Ksft.Result r = run(() -> {
            throw TestAssertionFailure.guestAssert(abort);
        });
        assertThat(r.exitCode()).isEqualTo(254);
        assertThat(err()).contains(": guest assert").contains("Failed guest assert: r0 ULT r1");
    }
}
