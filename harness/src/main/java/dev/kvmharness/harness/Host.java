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

    // ---- busy-waiting on shared variables (the memstress tests' READ_ONCE/WRITE_ONCE handshakes) ----

    /**
     * A place where the test's threads busy-wait for each other, as the C tests do with a global and
     * {@code while (READ_ONCE(x) != y) ;}. The shared variables stay the caller's (volatile, or atomics): a writer
     * changes them inside {@link SpinWait#publish}, a waiter names its condition over them in
     * {@link SpinWait#spinUntil}. On kvm the waiter spins on the CPU (PAUSE between reads) exactly like the C loop;
     * on sim it blocks in virtual time and resumes, at the writer's virtual time, when a publish may have made its
     * condition true, so a wait costs no host time and the run stays deterministic.
     */
    SpinWait newSpinWait(String name);

    /** See {@link #newSpinWait}. */
    interface SpinWait {
        /** Runs {@code write} (the WRITE_ONCE()s) and lets every thread spinning here look again. */
        void publish(Runnable write);

        /** Returns once {@code condition} (over the published variables) holds; checks it first. */
        void spinUntil(BooleanSupplier condition);
    }

    // ---- busy-waiting on guest memory (a flag a guest stores, which no publish announces) ----

    /**
     * Busy-waits until {@code condition} holds, where the condition reads guest memory (a sync flag the guest
     * clears): the host side of a guest/host handshake through a shared page. On kvm a PAUSE loop, like the C
     * {@code while (atomic_load(&flag)) ;}; on sim the thread looks every {@link #GUEST_POLL_NS} of virtual time,
     * so a guest store is seen at most that late, but between looks it waits for a write to the pages the
     * condition read (or a memslot or mapping change) instead of waking up for each one: a long wait costs
     * neither host time nor scheduler handoffs.
     *
     * @return false if {@code timeout} passed first (the C tests' alarm())
     */
    boolean spinUntilGuest(BooleanSupplier condition, Duration timeout);

    /** How often {@link #spinUntilGuest} looks again on the simulator, in virtual ns. */
    long GUEST_POLL_NS = 1_000;

    /** Whether pinning threads to host CPUs means anything (not on the simulator, whose CPUs are virtual). */
    boolean pinsThreads();

    /** A thread started by {@link #startGroup}. */
    interface HostThread {
        /** Waits for the thread; rethrows what it threw. */
        void join();
    }
}
