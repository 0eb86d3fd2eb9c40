// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.CostModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * How the sim backend builds each VM: the seed of its scheduler (same seed, same run, bit for bit), the
 * kernel policy, the cost model and the rest of the simulator's configuration.
 */
public record SimOptions(long seed, SimConfig config, CostModel costs, long hugetlbPageSize, int hostCpus) {
    /** What MFD_HUGETLB without a size flag gives on x86: the default huge page size, 2 MiB. */
    public static final long DEFAULT_HUGETLB_PAGE_SIZE = 1L << 21;

    public SimOptions(long seed, SimConfig config, CostModel costs) {
        this(seed, config, costs, DEFAULT_HUGETLB_PAGE_SIZE, 0);
    }

    public SimOptions {
        if (hostCpus < 0 || hostCpus > MAX_HOST_CPUS) {
            throw new IllegalArgumentException("--host-cpus must be between 1 and " + MAX_HOST_CPUS + " (0: one per thread), not "
                    + hostCpus);
        }
    }

    /** The simulator's limit on --host-cpus: the kernel's default NR_CPUS on x86_64 distributions. */
    public static final int MAX_HOST_CPUS = 8192;

    /**
     * The host CPUs the simulated threads share (vCPU threads, userfaultfd readers, the main thread); 0 gives
     * each its own, the default.
     */
    public SimOptions withHostCpus(int n) {
        return new SimOptions(seed, config, costs, hugetlbPageSize, n);
    }

    /** The huge page size the simulated host uses for hugetlb memfds (kvm_memfd_alloc(.., true)): 2 MiB or 1 GiB. */
    public SimOptions withHugetlbPageSize(long size) {
        if (size != 1L << 21 && size != 1L << 30) {
            throw new IllegalArgumentException("hugetlb page size must be 2M or 1G");
        }
        return new SimOptions(seed, config, costs, size, hostCpus);
    }

    public static SimOptions defaults(long seed) {
        return new SimOptions(seed, SimConfig.defaults(), CostModel.defaults());
    }

    /** From command-line values: a policy spec (current, legacy, pre-tdp, with modifiers) and an optional cost file. */
    public static SimOptions of(long seed, String policy, Path costModel) {
        CostModel costs;
        try {
            costs = costModel == null ? CostModel.defaults() : CostModel.load(costModel);
        } catch (IOException e) {
            throw new UncheckedIOException("reading cost model " + costModel, e);
        }
        return new SimOptions(seed, SimConfig.defaults().withPolicy(Policy.parse(policy)), costs);
    }

    public SimOptions withConfig(SimConfig c) {
        return new SimOptions(seed, c, costs, hugetlbPageSize, hostCpus);
    }
}
