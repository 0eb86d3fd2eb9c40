// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/**
 * What a guest-to-host call means, as in the selftests' ucall_common.h: GUEST_SYNC (a stage reached; the host
 * usually checks it and resumes), GUEST_DONE, an abort from GUEST_ASSERT/GUEST_FAIL (the test fails with the
 * rendered message), GUEST_PRINTF (the host prints the message and resumes).
 */
public enum UcallKind {
    SYNC, DONE, ABORT, PRINTF
}
