// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.TestAssertionFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/** {@link Host} for the real backend: platform threads and System.nanoTime(). */
public final class RealHost implements Host {
    public static final RealHost INSTANCE = new RealHost();

    private RealHost() {
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Semaphore newSemaphore(String name) {
        java.util.concurrent.Semaphore sem = new java.util.concurrent.Semaphore(0);
        return new Semaphore() {
            @Override
            public void post() {
                sem.release();
            }

            @Override
            public boolean timedWait(Duration timeout) {
                try {
                    return sem.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        };
    }

    /** The C loop: the variables are the caller's volatiles; a waiter re-reads them with PAUSE in between. */
    @Override
    public SpinWait newSpinWait(String name) {
        return new SpinWait() {
            @Override
            public void publish(Runnable write) {
                write.run();
            }

            @Override
            public void spinUntil(BooleanSupplier condition) {
                while (!condition.getAsBoolean()) {
                    Thread.onSpinWait();
                }
            }
        };
    }

    /** The C loop, with CLOCK_MONOTONIC read every 1024 looks for the timeout. */
    @Override
    public boolean spinUntilGuest(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 1; !condition.getAsBoolean(); i++) {
            if ((i & 1023) == 0 && System.nanoTime() - deadline > 0) {
                return condition.getAsBoolean();
            }
            Thread.onSpinWait();
        }
        return true;
    }

    @Override
    public boolean pinsThreads() {
        return true;
    }

    @Override
    public void cpuRelax() {
        Thread.onSpinWait();
    }

    @Override
    public void sleepMicros(long us) {
        try {
            TimeUnit.MICROSECONDS.sleep(us);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public List<HostThread> startGroup(String prefix, int n, IntConsumer body) {
        CountDownLatch running = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        List<HostThread> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread th = new Thread(() -> {
                try {
                    // A thread that failed to start still counts, so startGroup() never waits forever.
                    running.countDown();
                    go.await();
                    body.accept(idx);
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, prefix + i);
            th.setDaemon(true);
            th.start();
            out.add(() -> {
                try {
                    th.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TestAssertionFailure("interrupted while joining " + th.getName());
                }
                rethrow(failure.get());
            });
        }
        try {
            running.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestAssertionFailure("interrupted while starting threads");
        }
        go.countDown();
        return out;
    }

    static void rethrow(Throwable f) {
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new TestAssertionFailure("thread", String.valueOf(f.getMessage()), f);
        }
    }
}
