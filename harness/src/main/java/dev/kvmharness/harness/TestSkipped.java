// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * TEST_REQUIRE / ksft_exit_skip: the test cannot run here (no /dev/kvm, a missing capability, no hugepages).
 * {@link Ksft#run} prints "1..0 # SKIP reason" and exits with 4.
 */
public final class TestSkipped extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TestSkipped(String reason) {
        super(reason);
    }

    /** TEST_REQUIRE(cond): skip with {@code reason} unless {@code cond} holds. */
    public static void require(boolean cond, String reason) {
        if (!cond) {
            throw new TestSkipped(reason);
        }
    }
}
