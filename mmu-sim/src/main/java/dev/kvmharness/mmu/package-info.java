// SPDX-License-Identifier: GPL-2.0-only
/**
 * A pure-Java model of KVM's x86 TDP MMU (arch/x86/kvm/mmu/tdp_mmu.c and friends): EPT paging structures,
 * roots, zapping, TLB flushing, MMU notifiers, memslots, dirty logging and huge pages, behind the harness's
 * {@code sim} backend. Not written yet: this module is a placeholder until the simulator issue, and knows
 * nothing about the harness, JNA or JUnit.
 */
package dev.kvmharness.mmu;
