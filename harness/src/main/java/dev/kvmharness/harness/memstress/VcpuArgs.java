// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import dev.kvmharness.harness.Vcpu;

/** struct memstress_vcpu_args: one vCPU's slice of the test region. */
public record VcpuArgs(Vcpu vcpu, int vcpuIdx, long gva, long gpa, long pages) {
}
