// SPDX-License-Identifier: GPL-2.0-only
/**
 * The Java counterpart of tools/testing/selftests/kvm/lib: a backend-neutral API ({@link
 * dev.kvmharness.harness.Backend}, {@link dev.kvmharness.harness.Vm}, {@link dev.kvmharness.harness.Vcpu},
 * {@link dev.kvmharness.harness.DemandPaging}, {@link dev.kvmharness.harness.Stats}) that ports are written
 * against, and the kselftest conventions ({@link dev.kvmharness.harness.Ksft}). Backends live in
 * subpackages: {@code kvm} now, {@code sim} with the simulator.
 */
package dev.kvmharness.harness;
