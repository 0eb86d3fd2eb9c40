// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.RunProgress;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.UffdResolveException;
import dev.kvmharness.kvm.Userfaultfd;
import dev.kvmharness.kvm.bindings.Uffd;
import dev.kvmharness.sys.EventFd;
import dev.kvmharness.sys.IoctlException;
import dev.kvmharness.sys.LibC;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * uffd_setup_demand_paging() / uffd_stop_demand_paging() on a real userfaultfd: register the range, start
 * the reader threads (each polls the uffd and a shared stop eventfd), and on close signal, join and close.
 * A reader that fails records the failure; {@link #close()} rethrows it as the test's failure.
 */
final class KvmDemandPaging implements DemandPaging {
    private final Userfaultfd uffd;
    private final EventFd stop;
    private final List<Thread> readers = new ArrayList<>();
    private final AtomicLong pages = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Memory prototype;
    private final Consumer<Throwable> onReaderFailure;
    /** One histogram per reader (HdrHistogram is single-writer), merged on close. */
    private final List<Histogram> readerLatencies = new ArrayList<>();
    private final Histogram latency = newHistogram();
    private boolean closed;
    /** The pages served, for a person watching a long run. */
    private final RunProgress.Registration progress = RunProgress.addPageSource(pages::get);

    /**
     * @param prototype the page UFFDIO_COPY copies from (MISSING mode), shared by every uffd of the VM
     * @param onReaderFailure told at once when a reader fails, so vCPUs waiting on its faults are not left
     *     blocked until their run timeout (the C reader's TEST_ASSERT exits the process)
     */
    KvmDemandPaging(Config config, Memory prototype, Consumer<Throwable> onReaderFailure) {
        this.onReaderFailure = onReaderFailure;
        long mode = config.mode() == Mode.MINOR ? Uffd.UFFDIO_REGISTER_MODE_MINOR : Uffd.UFFDIO_REGISTER_MODE_MISSING;
        long expected = Uffd.ioctlBit(config.mode() == Mode.MINOR ? Uffd.NR_CONTINUE : Uffd.NR_COPY);
        this.uffd = Userfaultfd.create(0);
        EventFd stopFd = null;
        try {
            long allowed = uffd.register(config.hva(), config.len(), mode);
            TestAssertionFailure.check((allowed & expected) == expected, "(uffdio_register.ioctls & expected_ioctls) == expected_ioctls",
                    "missing userfaultfd ioctls");
            stopFd = new EventFd();
        } catch (RuntimeException e) {
            progress.close();
            uffd.close();
            throw e;
        }
        this.stop = stopFd;
        this.prototype = prototype;
        for (int i = 0; i < config.readers(); i++) {
            Histogram h = newHistogram();
            readerLatencies.add(h);
            Thread t = new Thread(() -> serve(config, h), "uffd-reader-" + i);
            t.setDaemon(true);
            readers.add(t);
            t.start();
        }
    }

    /** 1 ns to 1 minute at 3 significant digits. */
    private static Histogram newHistogram() {
        return new Histogram(60_000_000_000L, 3);
    }

    private void serve(Config config, Histogram latencyNs) {
        try {
            uffd.serve(stop, (fd, scratch, msg) -> {
                if (config.delayUs() > 0) {
                    LibC.usleep((int) config.delayUs());
                }
                long start = System.nanoTime();
                config.handler().handle(config.mode(), new Resolver() {
                    @Override
                    public void copy(long dst, long len) {
                        if (prototype == null || len > prototype.size()) {
                            throw new IllegalStateException("UFFDIO_COPY of " + len + " bytes without a prototype page that large");
                        }
                        try {
                            fd.copy(scratch, dst, Pointer.nativeValue(prototype), len, 0);
                        } catch (IoctlException e) {
                            throw new UffdResolveException(e.ioctl(), e.errno(), e);
                        }
                    }

                    @Override
                    public void cont(long start, long len) {
                        try {
                            fd.cont(scratch, start, len);
                        } catch (IoctlException e) {
                            throw new UffdResolveException(e.ioctl(), e.errno(), e);
                        }
                    }
                }, msg.address());
                latencyNs.recordValue(Math.max(1, System.nanoTime() - start));
                pages.incrementAndGet();
            });
        } catch (Throwable t) {
            if (failure.compareAndSet(null, t)) {
                // vCPUs blocked on this uffd's faults may not be interruptible by a kick: unregistering the
                // range wakes them and lets their faults complete normally, so the runs end and report this.
                try {
                    uffd.unregister(config.hva(), config.len());
                } catch (RuntimeException e) {
                    t.addSuppressed(e);
                }
                onReaderFailure.accept(t);
            }
        }
    }

    @Override
    public long pagesHandled() {
        return pages.get();
    }

    @Override
    public synchronized Histogram pageInLatencyNs() {
        return latency.copy();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        progress.close();
        stop.signal();
        // The fds may only close once no reader can poll them any more: join even if interrupted.
        boolean interrupted = false;
        for (Thread t : readers) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        stop.close();
        uffd.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        readerLatencies.forEach(latency::add);
        Throwable f = failure.get();
        if (f != null) {
            throw new TestAssertionFailure("uffd reader", "Reader thread handler fn failed: " + f.getMessage(), f);
        }
    }
}
