// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import java.util.Objects;

/**
 * What an accepted KVM_SET_USER_MEMORY_REGION[2] does ({@code enum kvm_mr_change} plus the old and new slot
 * __kvm_set_memory_region() hands to kvm_set_memslot()).
 *
 * @param kind the change
 * @param old the slot being replaced; null for CREATE
 * @param updated the slot after the change; null for DELETE, the unchanged slot for NONE
 */
public record MemslotChange(MemslotChangeKind kind, Memslot old, Memslot updated) {
    /** {@code enum kvm_mr_change}, plus NONE for the identical request KVM accepts without doing anything. */
    public enum MemslotChangeKind {
        CREATE, DELETE, MOVE, FLAGS_ONLY, NONE
    }

    public MemslotChange {
        Objects.requireNonNull(kind, "kind");
        if ((old == null) != (kind == MemslotChangeKind.CREATE)) {
            throw new IllegalArgumentException(kind + " with old slot " + old);
        }
        if ((updated == null) != (kind == MemslotChangeKind.DELETE)) {
            throw new IllegalArgumentException(kind + " with new slot " + updated);
        }
    }
}
