// SPDX-License-Identifier: GPL-2.0-only
/**
 * arch/x86/kvm/mmu/tdp_mmu.c and tdp_iter.c: the roots, the SPTE setters, and the fault, zap, dirty-log and
 * aging flows over them.
 *
 * <p>Layering: the package sees its VM through the narrow {@link
 * dev.kvmharness.mmu.tdp.TdpKvm} (scheduler, RCU, mmu_lock, policy, stats, remote flush, lpage_info check,
 * dirty marking, observer), which {@code kvm.SimKvm} implements in a private adapter; it never imports
 * {@code kvm}, {@code fault}, {@code notifier} or {@code oracle}. The alternative, one package for all of
 * arch/x86/kvm/mmu with package-private access, would have moved some forty files and every test import to
 * hide accessors that exist for the cycle; the interface instead names the dependency the kernel has (tdp_mmu.c
 * takes a {@code struct kvm *} and uses a handful of its fields), keeps the TDP MMU testable against a smaller
 * surface, and leaves the remaining cycle among {@code kvm}, {@code fault}, {@code memslot} and
 * {@code notifier}, which is the kernel's own (kvm_main.c and mmu.c call each other). {@code
 * ModelLayeringTest} holds the line.
 */
package dev.kvmharness.mmu.tdp;
