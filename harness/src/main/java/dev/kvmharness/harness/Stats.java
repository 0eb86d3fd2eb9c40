// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One snapshot of a VM's binary stats and each of its vCPUs', keyed by KVM's stat names (remote_tlb_flush,
 * pages_4k, pf_taken, ...). Both backends produce the same names, so a comparison is a join on them.
 *
 * @param vm the VM stats fd's values
 * @param vcpus each vCPU stats fd's values, by vCPU index
 * @param cumulative the names whose values only grow (KVM_STATS_TYPE_CUMULATIVE and the histograms); others
 *     (instant, peak) are reported as their value after, not as a difference
 */
public record Stats(Map<String, long[]> vm, List<Map<String, long[]>> vcpus, Set<String> cumulative) {

    /** after − before for cumulative stats, after for the others; vCPU stats also summed over vCPUs. */
    public Delta delta(Stats before) {
        Map<String, long[]> vmDelta = diff(vm, before.vm);
        List<Map<String, long[]>> perVcpu = new ArrayList<>();
        Map<String, long[]> total = new LinkedHashMap<>();
        for (int i = 0; i < vcpus.size(); i++) {
            Map<String, long[]> d = diff(vcpus.get(i), i < before.vcpus.size() ? before.vcpus.get(i) : Map.of());
            perVcpu.add(d);
            d.forEach((name, v) -> total.merge(name, v.clone(), Stats::add));
        }
        return new Delta(vmDelta, total, perVcpu);
    }

    private Map<String, long[]> diff(Map<String, long[]> after, Map<String, long[]> before) {
        Map<String, long[]> out = new LinkedHashMap<>();
        after.forEach((name, a) -> {
            long[] b = before.get(name);
            long[] d = a.clone();
            if (b != null && cumulative.contains(name)) {
                for (int i = 0; i < Math.min(a.length, b.length); i++) {
                    d[i] -= b[i];
                }
            }
            out.put(name, d);
        });
        return out;
    }

    private static long[] add(long[] a, long[] b) {
        long[] s = a.clone();
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            s[i] += b[i];
        }
        return s;
    }

    /**
     * What a run changed.
     *
     * @param vm VM stat deltas
     * @param vcpuTotal vCPU stat deltas summed over all vCPUs
     * @param perVcpu vCPU stat deltas per vCPU
     */
    public record Delta(Map<String, long[]> vm, Map<String, long[]> vcpuTotal, List<Map<String, long[]>> perVcpu) {
        /** The first element of a VM stat, or of the summed vCPU stat, by name; 0 if absent. */
        public long value(String name) {
            long[] v = vm.containsKey(name) ? vm.get(name) : vcpuTotal.get(name);
            return v == null || v.length == 0 ? 0 : v[0];
        }
    }
}
