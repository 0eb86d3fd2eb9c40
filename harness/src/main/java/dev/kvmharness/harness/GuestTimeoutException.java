// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.time.Duration;

/** A vCPU stayed in KVM_RUN past its deadline and was kicked out: the guest never exited. */
public final class GuestTimeoutException extends TestAssertionFailure {
    private static final long serialVersionUID = 1L;

    public GuestTimeoutException(int vcpu, Duration timeout) {
        super("vCPU " + vcpu + " did not exit to the host within " + timeout.toSeconds()
                + " s; it was kicked out of KVM_RUN (guest never exited)");
    }
}
