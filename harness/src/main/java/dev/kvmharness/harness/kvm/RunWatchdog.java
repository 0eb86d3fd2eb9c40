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
 *
 * <p>Each arming is its own {@link Deadline}; the kick and {@link Deadline#disarm()} run under the deadline's
 * lock, so once disarm() returns no kick of that run touches kvm_run or signals the thread again (kvm_run may be
 * unmapped right after a failed run).
 */
final class RunWatchdog {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kvm-run-watchdog");
        t.setDaemon(true);
        return t;
    });
    private static final long KICK_INTERVAL_MS = 20;

    private final KvmRun run;

    RunWatchdog(KvmRun run) {
        this.run = run;
    }

    /** One armed run. */
    final class Deadline {
        private final int tid;
        private final ScheduledFuture<?> pending;
        private boolean expired;
        private boolean done;

        private Deadline(int tid, Duration timeout) {
            this.tid = tid;
            this.pending = TIMER.scheduleAtFixedRate(this::kick, timeout.toMillis(), KICK_INTERVAL_MS, TimeUnit.MILLISECONDS);
        }

        private synchronized void kick() {
            if (done) {
                return;
            }
            expired = true;
            run.immediateExit(true);
            VcpuKick.kick(tid);
        }

        /** Stops the clock once KVM_RUN returned; true if the deadline had passed. */
        synchronized boolean disarm() {
            done = true;
            pending.cancel(false);
            if (expired) {
                run.immediateExit(false);
            }
            return expired;
        }
    }

    /** Starts the clock for a run on thread {@code tid}. */
    Deadline arm(int tid, Duration timeout) {
        return new Deadline(tid, timeout);
    }
}
