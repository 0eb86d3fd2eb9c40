// SPDX-License-Identifier: GPL-2.0-only
/**
 * Guest programs, backend-neutral: a small register IR with exact semantics ({@link
 * dev.kvmharness.harness.guest.Insn}), a readable builder ({@link dev.kvmharness.harness.guest.GuestBuilder}),
 * ucall sites, and the reference interpreter ({@link dev.kvmharness.harness.guest.GuestInterpreter}) the
 * x86 compiler is checked against on real KVM.
 */
package dev.kvmharness.harness.guest;
