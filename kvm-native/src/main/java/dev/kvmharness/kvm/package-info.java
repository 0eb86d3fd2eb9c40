// SPDX-License-Identifier: GPL-2.0-only
/**
 * Safe wrappers over the raw layer, one type per kernel fd like rust-vmm's kvm-ioctls: {@link
 * dev.kvmharness.kvm.Kvm}, {@link dev.kvmharness.kvm.VmFd}, {@link dev.kvmharness.kvm.VcpuFd}, {@link
 * dev.kvmharness.kvm.StatsFd}, {@link dev.kvmharness.kvm.Userfaultfd}; one method per ioctl, named after it;
 * failures are IoctlExceptions naming the ioctl and errno.
 */
package dev.kvmharness.kvm;
