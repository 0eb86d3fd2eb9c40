// SPDX-License-Identifier: GPL-2.0-only
/**
 * The ports, one class per C selftest, readable side by side with the original, and the picocli CLI with
 * the kselftest-style suite runner.
 */
package dev.kvmharness.selftests;
