// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.kvm.VcpuKick;
import dev.kvmharness.kvm.bindings.KvmRun;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bounds one KVM_RUN: if the guest has not exited when the deadline passes, set immediate_exit (so a run that
 * has not yet entered the guest returns at once) and signal the vCPU thread until KVM_RUN returns EINTR.
 * Repeating the kick closes the race where the signal lands just before the thread enters the ioctl.
 */
final class RunWatchdog {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kvm-run-watchdog");
        t.setDaemon(true);
        return t;
    });
    private static final long KICK_INTERVAL_MS = 20;

    private final KvmRun run;
    private volatile boolean expired;
    private ScheduledFuture<?> pending;

    RunWatchdog(KvmRun run) {
        this.run = run;
    }

    /** Starts the clock for a run on thread {@code tid}. */
    void arm(int tid, Duration timeout) {
        expired = false;
        pending = TIMER.scheduleAtFixedRate(() -> {
            expired = true;
            run.immediateExit(true);
            VcpuKick.kick(tid);
        }, timeout.toMillis(), KICK_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    /** Stops the clock once KVM_RUN returned; true if the deadline had passed. */
    boolean disarm() {
        pending.cancel(false);
        if (expired) {
            run.immediateExit(false);
        }
        return expired;
    }
}
