// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.harness.guest.GuestProgram;
import java.time.Duration;

/**
 * What to create (struct vm_shape plus the arguments of __vm_create_with_vcpus): mode, VM type, vCPUs, the
 * guest program every vCPU starts in, extra pages for slot 0, and how long one KVM_RUN may take before the
 * vCPU is kicked out and the test fails.
 */
public record VmShape(GuestMode mode, int type, int nrVcpus, GuestProgram program, long extraMemPages,
                      Duration runTimeout) {
    public static final Duration DEFAULT_RUN_TIMEOUT = Duration.ofMinutes(2);

    public static VmShape of(GuestProgram program, int nrVcpus) {
        return new VmShape(GuestMode.PXXV48_4K, 0, nrVcpus, program, 0, DEFAULT_RUN_TIMEOUT);
    }

    public VmShape withExtraMemPages(long pages) {
        return new VmShape(mode, type, nrVcpus, program, pages, runTimeout);
    }

    public VmShape withMode(GuestMode m) {
        return new VmShape(m, type, nrVcpus, program, extraMemPages, runTimeout);
    }

    public VmShape withRunTimeout(Duration t) {
        return new VmShape(mode, type, nrVcpus, program, extraMemPages, t);
    }

    public VmShape withType(int t) {
        return new VmShape(mode, t, nrVcpus, program, extraMemPages, runTimeout);
    }
}
