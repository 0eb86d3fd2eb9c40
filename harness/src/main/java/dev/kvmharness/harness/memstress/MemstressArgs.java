// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.memstress;

/**
 * The layout of struct memstress_args in guest memory: the part the guest reads while it runs. The host
 * writes it (sync_global_to_guest) and may change write_percent and random_access between passes, as
 * memstress_set_write_percent() / memstress_set_random_access() do.
 */
final class MemstressArgs {
    static final int OFF_GUEST_PAGE_SIZE = 0;
    static final int OFF_WRITE_PERCENT = 8;
    static final int OFF_RANDOM_ACCESS = 16;
    static final int OFF_RANDOM_SEED = 24;
    /** sizeof(memstress_args) for this VM, so the guest can touch every page of it. */
    static final int OFF_SIZE = 32;
    static final int OFF_VCPU_ARGS = 64;

    /** struct memstress_vcpu_args as the guest sees it: gva, pages, vcpu_idx, and the latency buffer of the timed guest. */
    static final int VCPU_ARGS_SIZE = 32;
    static final int VCPU_OFF_GVA = 0;
    static final int VCPU_OFF_PAGES = 8;
    static final int VCPU_OFF_IDX = 16;
    /** Where the timed guest stores each access's TSC delta (u64 per access); 0 when timing is off. */
    static final int VCPU_OFF_LATENCY_BUF = 24;

    private MemstressArgs() {
    }

    static long size(int nrVcpus) {
        return OFF_VCPU_ARGS + (long) VCPU_ARGS_SIZE * nrVcpus;
    }

    static long vcpuArgs(long args, int vcpuIdx) {
        return args + OFF_VCPU_ARGS + (long) VCPU_ARGS_SIZE * vcpuIdx;
    }
}
