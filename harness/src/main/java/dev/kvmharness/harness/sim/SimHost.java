// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.Host;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import dev.kvmharness.mmu.sched.SimThreadFailedException;
import dev.kvmharness.mmu.sched.WaitQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/** {@link Host} on the simulator: simulated threads, virtual time. */
final class SimHost implements Host {
    private final SimScheduler sched;
    /** The VM's memory, whose pages {@link #spinUntilGuest} watches; null for a host without one. */
    private final PhysMem phys;

    SimHost(SimScheduler sched, PhysMem phys) {
        this.sched = sched;
        this.phys = phys;
    }

    @Override
    public long nanoTime() {
        return sched.now();
    }

    /** One PAUSE-bounded spin iteration, about 10 ns. */
    @Override
    public void cpuRelax() {
        sched.sleep(10);
    }

    @Override
    public void sleepMicros(long us) {
        sched.sleep(us * 1000);
    }

    /** A count and a wait queue: sem_timedwait() times out in virtual time. */
    @Override
    public Semaphore newSemaphore(String name) {
        var queue = sched.newWaitQueue(name);
        long[] count = {0};
        return new Semaphore() {
            @Override
            public void post() {
                count[0]++;
                queue.wakeOne();
            }

            @Override
            public boolean timedWait(Duration timeout) {
                if (!queue.await(() -> count[0] > 0, sched.now() + timeout.toNanos())) {
                    return false;
                }
                count[0]--;
                return true;
            }
        };
    }

    /** Waiters block on one wait queue; every publish wakes them all to re-check (the writer keeps running). */
    @Override
    public SpinWait newSpinWait(String name) {
        var queue = sched.newWaitQueue(name);
        return new SpinWait() {
            @Override
            public void publish(Runnable write) {
                write.run();
                queue.wakeAll();
            }

            @Override
            public void spinUntil(BooleanSupplier condition) {
                queue.await(condition);
            }
        };
    }

    /** Polls every GUEST_POLL_NS of virtual time: a scheduling point, so the vCPU runs in between. */
    @Override
    public boolean spinUntilGuest(BooleanSupplier condition, Duration timeout) {
        long deadline = sched.now() + timeout.toNanos();
        while (true) {
            long evalStart = sched.now();
            long[] read;
            boolean holds;
            if (phys == null) {
                read = new long[0];
                holds = condition.getAsBoolean();
            } else {
                phys.startReadLog();
                try {
                    holds = condition.getAsBoolean();
                } finally {
                    read = phys.stopReadLog();
                }
            }
            if (holds) {
                return true;
            }
            if (sched.now() >= deadline) {
                return false;
            }
            if (read.length == 0) {
                sched.sleep(GUEST_POLL_NS);
                continue;
            }
            // Looking again before one of the pages the condition read changes would find the same answer: wait
            // for that change, then look at the first poll the loop would have made after it (a poll every
            // evaluation + GUEST_POLL_NS), after a scheduling point, as the loop's sleep gives.
            long period = sched.now() - evalStart + GUEST_POLL_NS;
            waitForChange(read, deadline);
            long polls = Math.max(1, (sched.now() - evalStart + period - 1) / period);
            sched.sleep(evalStart + polls * period - sched.now());
        }
    }

    private void waitForChange(long[] pfns, long deadline) {
        WaitQueue q = sched.newWaitQueue("host thread polling guest memory");
        boolean[] changed = {false};
        Runnable onChange = () -> {
            if (!changed[0]) {
                changed[0] = true;
                q.wakeAll();
            }
        };
        phys.watch(pfns, onChange);
        try {
            q.await(() -> changed[0], deadline);
        } finally {
            phys.unwatch(pfns, onChange);
        }
    }

    @Override
    public boolean pinsThreads() {
        return false;
    }

    /** All start at the caller's virtual time: released together by construction. */
    @Override
    public List<HostThread> startGroup(String prefix, int n, IntConsumer body) {
        List<HostThread> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            SimThread t = sched.spawn(prefix + i, () -> body.accept(idx));
            out.add(() -> join(sched, t));
        }
        return out;
    }

    /** Joins a simulated thread and rethrows what it threw, unwrapped. */
    static void join(SimScheduler sched, SimThread t) {
        try {
            sched.join(t);
        } catch (SimThreadFailedException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
