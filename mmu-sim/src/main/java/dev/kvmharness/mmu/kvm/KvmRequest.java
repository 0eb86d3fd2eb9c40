// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

/** The KVM_REQ_* bits the MMU uses; all are KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP. */
public enum KvmRequest {
    /** KVM_REQ_TLB_FLUSH: flush everything before the next entry. */
    TLB_FLUSH,
    /** KVM_REQ_MMU_FREE_OBSOLETE_ROOTS: drop invalid roots, load a fresh one. */
    MMU_FREE_OBSOLETE_ROOTS;

    final int bit() {
        return 1 << ordinal();
    }
}
