// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import dev.kvmharness.harness.RunProgress;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A status line on stderr for a person watching a long run at a terminal: after two seconds, and then twice a
 * second, "[demand_paging_test 12 s] 3145728 pages faulted, 5/8 vCPUs done", rewritten in place. When stderr
 * is not a terminal (a pipe, a file, the suite, CI) nothing is printed. The line is erased before the test
 * writes to stdout, so the test's own lines stay whole. It only reads {@link RunProgress}: a run's result is
 * the same with or without it.
 */
final class ProgressLine implements AutoCloseable {
    static final long SHOW_AFTER_NS = TimeUnit.SECONDS.toNanos(2);
    private static final String ERASE = "\r\033[K";

    private final String test;
    private final PrintStream err;
    private final LongSupplier wallNanos;
    private final Supplier<RunProgress.Snapshot> progress;
    private final long startNs;
    private ScheduledExecutorService ticker;
    private boolean shown;
    private boolean closed;

    ProgressLine(String test, PrintStream err, LongSupplier wallNanos, Supplier<RunProgress.Snapshot> progress) {
        this.test = test;
        this.err = err;
        this.wallNanos = wallNanos;
        this.progress = progress;
        this.startNs = wallNanos.getAsLong();
    }

    /** A ticking line when {@code terminal}, else one that never prints. */
    static ProgressLine start(String test, PrintStream err, boolean terminal) {
        ProgressLine line = new ProgressLine(test, err, System::nanoTime, RunProgress::snapshot);
        if (terminal) {
            line.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "progress-line");
                t.setDaemon(true);
                return t;
            });
            // a tick cannot fail (it only formats counters), and the ticker dies with close()
            var unused = line.ticker.scheduleAtFixedRate(line::tick, 500, 500, TimeUnit.MILLISECONDS);
        }
        return line;
    }

    /** Redraws the line once the run has lasted {@link #SHOW_AFTER_NS}. */
    synchronized void tick() {
        long elapsed = wallNanos.getAsLong() - startNs;
        if (closed || elapsed < SHOW_AFTER_NS) {
            return;
        }
        err.print(ERASE + render(elapsed, progress.get()));
        err.flush();
        shown = true;
    }

    String render(long elapsedNs, RunProgress.Snapshot s) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "[%s %d s]", test, elapsedNs / 1_000_000_000L));
        if (s.pages() >= 0) {
            b.append(' ').append(s.pages()).append(" pages faulted");
        }
        if (s.vcpus() > 0) {
            b.append(s.pages() >= 0 ? ", " : " ").append(s.vcpusDone()).append('/').append(s.vcpus()).append(" vCPUs done");
        }
        return b.toString();
    }

    /** Erases the line, if shown, so that what follows starts at the line's beginning. */
    synchronized void clear() {
        if (shown) {
            err.print(ERASE);
            err.flush();
            shown = false;
        }
    }

    /** {@code out} with the line erased before each write to it. */
    PrintStream guard(PrintStream out) {
        if (ticker == null) {
            return out;
        }
        return new PrintStream(new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                clear();
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                clear();
                out.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (ticker != null) {
            ticker.shutdownNow();
        }
        clear();
    }

}
