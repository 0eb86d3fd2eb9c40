// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --shard i/n}: shard i of n (1-based) takes every n-th item of the suite, starting with the i-th, so
 * n runners (or the pods of an indexed Kubernetes Job) that share a matrix run each item exactly once, with no
 * coordination beyond their index. Deterministic: the same suite always splits the same way.
 */
record Shard(int index, int count) {
    static final Shard ALL = new Shard(1, 1);

    Shard {
        if (count < 1 || index < 1 || index > count) {
            throw new IllegalArgumentException("--shard " + index + "/" + count + ": want i/n with 1 <= i <= n");
        }
    }

    /** The variable an indexed Kubernetes Job gives each pod: its 0-based completion index. */
    static final String JOB_INDEX_VARIABLE = "JOB_COMPLETION_INDEX";

    /** Parses "i/n". */
    static Shard parse(String s) {
        return parse(s, System.getenv(JOB_INDEX_VARIABLE));
    }

    /**
     * Parses "i/n", or "indexed/n" for the pod of an indexed Job: i is then {@code jobIndex} + 1 (the image
     * has no shell to do that sum in the Job's command).
     */
    static Shard parse(String s, String jobIndex) {
        if (s.startsWith("indexed/")) {
            if (jobIndex == null) {
                throw new IllegalArgumentException("--shard " + s + ": " + JOB_INDEX_VARIABLE + " is not set (not an indexed Job pod?)");
            }
            s = (Integer.parseInt(jobIndex.trim()) + 1) + s.substring("indexed".length());
        }
        String[] p = s.split("/", -1);
        if (p.length != 2) {
            throw new IllegalArgumentException("--shard '" + s + "': want i/n, e.g. 1/4");
        }
        try {
            return new Shard(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard '" + s + "': want i/n, e.g. 1/4", e);
        }
    }

    <T> List<T> select(List<T> items) {
        List<T> mine = new ArrayList<>();
        for (int k = index - 1; k < items.size(); k += count) {
            mine.add(items.get(k));
        }
        return mine;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
