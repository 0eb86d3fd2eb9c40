// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * The host side of a VM as test code sees it: threads and time. On {@code kvm} these are real threads and
 * CLOCK_MONOTONIC; on {@code sim} they are simulated threads and virtual time, so a test that only waits,
 * spawns and measures through here is deterministic on the simulator and unchanged on real KVM.
 */
public interface Host {
    /** clock_gettime(CLOCK_MONOTONIC) in ns, or the calling simulated thread's virtual time. */
    long nanoTime();

    /**
     * cpu_relax() in a spin-wait loop: PAUSE on kvm; on sim a few ns of virtual time and a scheduling point, so
     * the thread being waited for gets to run.
     */
    void cpuRelax();

    /** usleep(). */
    void sleepMicros(long us);

    /**
     * Starts {@code n} threads named {@code prefix + i} running {@code body.accept(i)}, released together once
     * all exist (as memstress does, so thread creation stays out of the measurement).
     */
    List<HostThread> startGroup(String prefix, int n, IntConsumer body);

    /** A counting semaphore (sem_init(&sem, 0, 0)) for the test's threads, waited on in this host's time. */
    Semaphore newSemaphore(String name);

    /** sem_t: {@link #post()} from one thread, {@link #timedWait} in another. */
    interface Semaphore {
        /** sem_post(). */
        void post();

        /** sem_timedwait() with a relative timeout: true once a post is taken, false when the time ran out. */
        boolean timedWait(Duration timeout);
    }

    /** Whether pinning threads to host CPUs means anything (not on the simulator, whose CPUs are virtual). */
    boolean pinsThreads();

    /** A thread started by {@link #startGroup}. */
    interface HostThread {
        /** Waits for the thread; rethrows what it threw. */
        void join();
    }

    // ---- spin-waits on variables other threads write ----

    /**
     * A C spin-wait on shared variables ({@code while (READ_ONCE(x) != want) ;}) between the test's threads, such
     * as access_tracking_perf_test's iteration handshake: waiters call {@link SpinWait#await}, and every thread
     * calls {@link SpinWait#changed} after each write a waiter may be waiting for.
     */
    SpinWait newSpinWait(String name);

    /** See {@link #newSpinWait}. */
    interface SpinWait {
        /**
         * Returns once {@code done} holds. On kvm the caller spins (PAUSE), as the C loop does; on sim it waits in
         * virtual time until a {@link #changed()} finds {@code done} true, and resumes at the writer's time, so
         * the wait costs what a spin would and no real time (a spin loop of {@link Host#cpuRelax()} would hand the
         * baton back and forth every few virtual ns).
         */
        void await(BooleanSupplier done);

        /** After a write a waiter's condition reads: nothing on kvm; wakes the waiters to look again on sim. */
        void changed();
    }
}
