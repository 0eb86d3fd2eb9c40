// SPDX-License-Identifier: GPL-2.0-only
/**
 * The libc layer: JNA direct-mapped calls ({@link dev.kvmharness.sys.LibC}), their checked forms that turn
 * errno into a {@link dev.kvmharness.sys.SyscallException} naming the call ({@link dev.kvmharness.sys.Sys}),
 * and owned resources that are released once and refuse use after release (fds, mappings, eventfd).
 */
package dev.kvmharness.sys;
