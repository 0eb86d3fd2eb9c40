// SPDX-License-Identifier: GPL-2.0-only
/**
 * A pure-Java model of KVM's x86 TDP MMU (arch/x86/kvm/mmu/tdp_mmu.c and friends): EPT paging structures,
 * roots, zapping, TLB flushing, MMU notifiers, memslots, dirty logging and huge pages, behind the harness's
 * {@code sim} backend. The module knows nothing about the harness, JNA or JUnit: a developer can drive the
 * model directly ({@code kvm.SimKvm} is struct kvm), and the harness is one client of it.
 */
package dev.kvmharness.mmu;
