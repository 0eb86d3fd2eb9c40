// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import dev.kvmharness.harness.Host;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;

/**
 * The iteration handshake of the memstress perf tests (dirty_log_perf_test.c, access_tracking_perf_test.c): the
 * host bumps a global {@code iteration}; each vCPU thread runs the guest for one pass over its memory (the guest
 * ends each pass with GUEST_SYNC), stores the iteration it ran in {@code vcpu_last_completed_iteration[i]}, and
 * spins until the host bumps it again; the host spins until every vCPU has completed the current iteration. A
 * negative iteration lets the vCPUs run pass after pass without waiting; {@code host_quit} ends their loops.
 *
 * <p>The variables are shared as in C (volatile reads and writes); the spinning goes through
 * {@link Host#newSpinWait}, so on the simulator a wait is a block in virtual time. A vCPU body wrapped by
 * {@link #worker} that fails ends the host's wait with its failure instead of leaving the host spinning.
 */
public final class VcpuIterations {
    private final Host.SpinWait spin;
    private final AtomicIntegerArray lastCompleted;
    private volatile int iteration;
    private volatile boolean hostQuit;
    private volatile Throwable vcpuFailure;

    /** iteration = 0, host_quit = false, and every vCPU's last completed iteration -1, as run_test() starts. */
    public VcpuIterations(Host host, int nrVcpus) {
        this.spin = host.newSpinWait("vcpu iterations");
        this.lastCompleted = new AtomicIntegerArray(nrVcpus);
        for (int i = 0; i < nrVcpus; i++) {
            lastCompleted.set(i, -1);
        }
    }

    // ---- the host's side

    /** READ_ONCE(iteration). */
    public int iteration() {
        return iteration;
    }

    /** iteration++: starts the vCPUs' next pass; returns the new iteration. */
    public int next() {
        int n = iteration + 1;
        spin.publish(() -> iteration = n);
        return n;
    }

    /** WRITE_ONCE(iteration, value), e.g. -1: the vCPUs keep running passes without waiting for the host. */
    public void set(int value) {
        spin.publish(() -> iteration = value);
    }

    /**
     * Spins until every vCPU's last completed iteration is {@code it}, vCPU 0 first. A vCPU thread that failed
     * (through {@link #worker}) ends the wait: host_quit is set and its failure rethrown here.
     */
    public void awaitCompleted(int it) {
        for (int i = 0; i < lastCompleted.length(); i++) {
            int v = i;
            spin.spinUntil(() -> vcpuFailure != null || lastCompleted.get(v) == it);
            Throwable f = vcpuFailure;
            if (f != null) {
                quit();
                if (f instanceof Error e) {
                    throw e;
                }
                throw (RuntimeException) f;
            }
        }
    }

    /** host_quit = true: each vCPU thread returns after its pass in flight. */
    public void quit() {
        spin.publish(() -> hostQuit = true);
    }

    /** READ_ONCE(host_quit). */
    public boolean quitting() {
        return hostQuit;
    }

    // ---- a vCPU thread's side

    /** vcpu_last_completed_iteration[vcpu] = it. */
    public void completed(int vcpu, int it) {
        spin.publish(() -> lastCompleted.set(vcpu, it));
    }

    /** vcpu_last_completed_iteration[vcpu]. */
    public int lastCompleted(int vcpu) {
        return lastCompleted.get(vcpu);
    }

    /**
     * The vCPU's wait after a pass of {@code current}: spins while the iteration is still {@code current} and not
     * negative and the host has not quit.
     */
    public void awaitNext(int current) {
        spin.spinUntil(() -> current != iteration || iteration < 0 || hostQuit);
    }

    /** {@code body} as a vCPU thread's function whose failure also ends the host's {@link #awaitCompleted}. */
    public Consumer<VcpuArgs> worker(Consumer<VcpuArgs> body) {
        return a -> {
            try {
                body.accept(a);
            } catch (RuntimeException | Error e) {
                spin.publish(() -> {
                    if (vcpuFailure == null) {
                        vcpuFailure = e;
                    }
                });
                throw e;
            }
        };
    }
}
