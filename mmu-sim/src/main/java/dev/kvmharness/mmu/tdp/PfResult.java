// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.tdp;

/** RET_PF_*: how a page fault ended. */
public enum PfResult {
    /** The fault was fixed; the vCPU re-enters. */
    FIXED,
    /** Someone else already fixed it. */
    SPURIOUS,
    /** Try again: re-enter the guest and fault again. */
    RETRY,
    /** Emulate the access (MMIO, or a write to a read-only slot): the vCPU exits to userspace. */
    EMULATE,
    /** A write to a write-protected gfn. */
    WRITE_PROTECTED,
    /** The access cannot be served (a host fault that failed). */
    INVALID
}
