// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

import dev.kvmharness.harness.Host;
import dev.kvmharness.harness.RunProgress;
import dev.kvmharness.sys.Sys;
import java.util.List;
import java.util.function.Consumer;

/**
 * memstress_start_vcpu_threads() / memstress_join_vcpu_threads(): one thread per vCPU, optionally pinned, all
 * released together once every thread is up so thread creation (which takes mmap_lock for write) stays out of
 * the measurement. The first failure in any vCPU thread is rethrown by {@link #join()}. Threads and clock come
 * from the VM's {@link Host}, so on the simulator they are simulated threads in virtual time.
 */
public final class VcpuThreads {
    private final List<Host.HostThread> threads;
    private final long[] durationsNs;

    private VcpuThreads(List<Host.HostThread> threads, long[] durationsNs) {
        this.threads = threads;
        this.durationsNs = durationsNs;
    }

    /**
     * Starts {@code fn} for each vCPU's args. {@code pcpus} pins vCPU i to host CPU pcpus[i] (null: no
     * pinning; ignored on the simulator, whose CPUs are virtual).
     */
    public static VcpuThreads start(Host host, List<VcpuArgs> args, int[] pcpus, Consumer<VcpuArgs> fn) {
        long[] durations = new long[args.size()];
        RunProgress.vcpusStarted(args.size());
        List<Host.HostThread> threads = host.startGroup("vcpu-", args.size(), i -> {
            VcpuArgs a = args.get(i);
            if (pcpus != null && host.pinsThreads()) {
                Sys.pinToCpu(0, pcpus[a.vcpuIdx()]);
            }
            long start = host.nanoTime();
            fn.accept(a);
            durations[a.vcpuIdx()] = host.nanoTime() - start;
            RunProgress.vcpuDone();
        });
        return new VcpuThreads(threads, durations);
    }

    /** Waits for every vCPU thread; rethrows the first failure. */
    public void join() {
        RuntimeException first = null;
        for (Host.HostThread t : threads) {
            try {
                t.join();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Time each vCPU thread spent in its function, by vCPU index (virtual on the simulator). */
    public long[] durationsNs() {
        return durationsNs.clone();
    }
}
