// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.UffdResolveException;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.UffdMode;
import dev.kvmharness.mmu.host.UffdMsg;
import dev.kvmharness.mmu.host.Userfaultfd;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * lib/userfaultfd_util.c on the simulator: a simulated userfaultfd and {@code readers} simulated handler
 * threads. A vCPU that faults on a registered page blocks in virtual time until a reader resolves it; the -d
 * delay is a virtual sleep, so the page-in latencies it reports are virtual too.
 */
final class SimDemandPaging implements DemandPaging {
    private final SimScheduler sched;
    private final Userfaultfd uffd;
    private final Config config;
    private final List<SimThread> readers = new ArrayList<>();
    private final Histogram latency = new Histogram(3);
    private long pagesHandled;
    private boolean closed;

    SimDemandPaging(SimScheduler sched, HostMm mm, Config config) {
        this.sched = sched;
        this.config = config;
        this.uffd = mm.userfaultfd();
        uffd.register(config.hva(), config.len(), config.mode() == Mode.MISSING ? UffdMode.MISSING : UffdMode.MINOR);
        for (int i = 0; i < config.readers(); i++) {
            readers.add(sched.spawn("uffd-reader-" + i, this::reader));
        }
    }

    /** uffd_handler_thread_fn(): wait for a fault, optionally sleep, let the test resolve it. */
    private void reader() {
        Resolver resolver = new Resolver() {
            @Override
            public void copy(long dst, long len) {
                resolve(() -> uffd.copy(dst, len, config.fill()));
            }

            @Override
            public void cont(long start, long len) {
                resolve(() -> uffd.cont(start, len));
            }
        };
        while (true) {
            UffdMsg msg = uffd.read(Long.MAX_VALUE);
            if (msg == null) {
                return;
            }
            sched.charge(Cost.UFFD_READ);
            if (config.delayUs() > 0) {
                sched.sleep(config.delayUs() * 1000);
            }
            long start = sched.now();
            long page = msg.address() & -config.pageSize();
            config.handler().handle(config.mode(), resolver, page);
            latency.recordValue(Math.max(0, sched.now() - start));
            pagesHandled++;
        }
    }

    private static void resolve(Runnable ioctl) {
        try {
            ioctl.run();
        } catch (SimKvmException e) {
            throw new UffdResolveException(e.call(), e.errno().value(), e);
        }
    }

    @Override
    public long pagesHandled() {
        return pagesHandled;
    }

    @Override
    public Histogram pageInLatencyNs() {
        return latency;
    }

    /** uffd_stop_demand_paging(): close the uffd (readers see it and return), join them. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        uffd.close();
        for (SimThread r : readers) {
            SimHost.join(sched, r);
        }
    }
}
