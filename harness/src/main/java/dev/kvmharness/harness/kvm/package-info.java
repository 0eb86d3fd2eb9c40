// SPDX-License-Identifier: GPL-2.0-only
/**
 * The real backend: VMs on /dev/kvm through kvm-native, built like lib/kvm_util.c and lib/x86_64/processor.c
 * build them (slot 0 identity mapped, long-mode vCPUs, harness-built guest page tables).
 */
package dev.kvmharness.harness.kvm;
