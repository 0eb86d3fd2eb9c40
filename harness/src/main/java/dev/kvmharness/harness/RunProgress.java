// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * How far the runs in this process have got, for a person watching a long run: pages faulted in and vCPU
 * threads finished. Written by the backends and memstress, read by a progress line on a terminal; never read
 * by a test or fed back into a run, so it cannot change a result (on the simulator its page counts are racy
 * reads of the model's counters from another thread).
 */
public final class RunProgress {
    private static final List<LongSupplier> PAGE_SOURCES = new CopyOnWriteArrayList<>();
    private static final AtomicInteger VCPUS = new AtomicInteger();
    private static final AtomicInteger VCPUS_DONE = new AtomicInteger();

    private RunProgress() {
    }

    /** What has happened so far: pages faulted in (-1 where no backend counts them) and vCPU threads. */
    public record Snapshot(long pages, int vcpus, int vcpusDone) {
    }

    /**
     * A VM's count of pages faulted in (EPT violations fixed on the simulator, pages a userfaultfd handler
     * served on /dev/kvm). Close the returned handle when the VM goes away; its count stops being added.
     */
    public static Registration addPageSource(LongSupplier pages) {
        PAGE_SOURCES.add(pages);
        return () -> PAGE_SOURCES.remove(pages);
    }

    /** A registered source; closing it removes it. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** vCPU threads started (memstress's {@code vcpu_thread_main}s). */
    public static void vcpusStarted(int n) {
        VCPUS.addAndGet(n);
    }

    public static void vcpuDone() {
        VCPUS_DONE.incrementAndGet();
    }

    public static Snapshot snapshot() {
        long pages = -1;
        for (LongSupplier s : PAGE_SOURCES) {
            pages = Math.max(pages, 0) + s.getAsLong();
        }
        return new Snapshot(pages, VCPUS.get(), VCPUS_DONE.get());
    }
}
