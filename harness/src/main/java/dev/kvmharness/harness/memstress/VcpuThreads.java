// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.sys.Sys;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * memstress_start_vcpu_threads() / memstress_join_vcpu_threads(): one thread per vCPU, optionally pinned, all
 * released together once every thread is up so thread creation (which takes mmap_lock for write) stays out of
 * the measurement. The first failure in any vCPU thread is rethrown by {@link #join()}.
 */
public final class VcpuThreads {
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final long[] durationsNs;

    private VcpuThreads(int n) {
        this.durationsNs = new long[n];
    }

    /**
     * Starts {@code fn} for each vCPU's args. {@code pcpus} pins vCPU i to host CPU pcpus[i] (null: no
     * pinning).
     */
    public static VcpuThreads start(List<VcpuArgs> args, int[] pcpus, Consumer<VcpuArgs> fn) {
        VcpuThreads t = new VcpuThreads(args.size());
        CountDownLatch running = new CountDownLatch(args.size());
        CountDownLatch go = new CountDownLatch(1);
        for (VcpuArgs a : args) {
            Thread th = new Thread(() -> {
                try {
                    try {
                        if (pcpus != null) {
                            Sys.pinToCpu(0, pcpus[a.vcpuIdx()]);
                        }
                    } finally {
                        // A thread that failed to start still counts, so start() never waits forever.
                        running.countDown();
                    }
                    go.await();
                    long start = System.nanoTime();
                    fn.accept(a);
                    t.durationsNs[a.vcpuIdx()] = System.nanoTime() - start;
                } catch (Throwable e) {
                    t.failure.compareAndSet(null, e);
                }
            }, "vcpu-" + a.vcpuIdx());
            th.setDaemon(true);
            t.threads.add(th);
            th.start();
        }
        try {
            running.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestAssertionFailure("interrupted while starting vCPU threads");
        }
        go.countDown();
        return t;
    }

    /** Waits for every vCPU thread; rethrows the first failure. */
    public void join() {
        for (Thread th : threads) {
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TestAssertionFailure("interrupted while joining vCPU threads");
            }
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException) {
            throw (RuntimeException) f;
        }
        if (f != null) {
            throw new TestAssertionFailure("vCPU thread", String.valueOf(f.getMessage()), f);
        }
    }

    /** Wall-clock time each vCPU thread spent in its function, by vCPU index. */
    public long[] durationsNs() {
        return durationsNs.clone();
    }
}
