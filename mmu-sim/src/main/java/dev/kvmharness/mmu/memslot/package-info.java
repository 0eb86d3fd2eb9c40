// SPDX-License-Identifier: GPL-2.0-only
/**
 * Memslots as virt/kvm/kvm_main.c keeps them: {@link dev.kvmharness.mmu.memslot.Memslot} is one
 * {@code struct kvm_memory_slot}, and {@link dev.kvmharness.mmu.memslot.MemslotRequestCheck} decides what a
 * KVM_SET_USER_MEMORY_REGION[2] {@link dev.kvmharness.mmu.memslot.MemslotRequest} does (a
 * {@link dev.kvmharness.mmu.memslot.MemslotChange}) or which errno it fails with, against the
 * {@link dev.kvmharness.mmu.memslot.MemslotLimits} a VM reports. Installing the change, memslot generations
 * and the MMU work each change triggers live beside these classes in the same package.
 */
package dev.kvmharness.mmu.memslot;
