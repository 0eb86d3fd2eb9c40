// SPDX-License-Identifier: GPL-2.0-only
/**
 * The raw KVM and userfaultfd ABI, literal like rust-vmm's kvm-bindings: ioctl numbers derived with the _IOC
 * encoding, structs at their C offsets in native memory, constants from the UAPI headers. KernelAbiTest checks
 * every value against the 6.12 headers.
 */
package dev.kvmharness.kvm.bindings;
