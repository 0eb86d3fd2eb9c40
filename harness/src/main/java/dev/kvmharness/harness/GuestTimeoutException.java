// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.time.Duration;

/**
 * A vCPU stayed in KVM_RUN past its limit and was kicked out. The message says which limit tripped (wall
 * time on /dev/kvm; virtual time, or no progress at all, on the simulator) and how to raise it.
 */
public final class GuestTimeoutException extends TestAssertionFailure {
    private static final long serialVersionUID = 1L;

    /** Which limit a vCPU ran into. */
    public enum Limit {
        /** /dev/kvm: the guest did not exit within the run timeout of wall time. */
        WALL("of wall time"),
        /** The simulator: the guest's virtual clock passed the run timeout (a deterministic limit). */
        VIRTUAL("of virtual time"),
        /** The simulator: no instruction retired and the virtual clock stood still for the run timeout of wall time. */
        NO_PROGRESS("of wall time without retiring an instruction or advancing the virtual clock");

        private final String what;

        Limit(String what) {
            this.what = what;
        }
    }

    private final Limit limit;

    public GuestTimeoutException(int vcpu, Duration timeout) {
        this(vcpu, timeout, Limit.WALL);
    }

    public GuestTimeoutException(int vcpu, Duration timeout, Limit limit) {
        super("vCPU " + vcpu + " did not exit to the host within " + format(timeout) + " " + limit.what
                + "; it was kicked out of KVM_RUN" + advice(limit));
        this.limit = limit;
    }

    public Limit limit() {
        return limit;
    }

    private static String format(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String advice(Limit limit) {
        return switch (limit) {
            case WALL -> " (guest never exited; --run-timeout S raises the limit for a guest that is still working)";
            case VIRTUAL -> " (the guest was still running: a larger run needs more virtual time; raise it with"
                    + " --run-timeout S, or VmShape.withRunTimeout() in a JUnit test)";
            case NO_PROGRESS -> " (the guest is hung, or the simulator is stuck)";
        };
    }
}
