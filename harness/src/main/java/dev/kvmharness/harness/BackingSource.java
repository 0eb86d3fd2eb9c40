// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Where a memslot's memory comes from: the selftests' enum vm_mem_backing_src_type (lib/test_util.c),
 * with the same names on the command line (-s).
 */
public enum BackingSource {
    ANONYMOUS("anonymous", 4096, false, false),
    ANONYMOUS_THP("anonymous_thp", 2L << 20, false, false),
    ANONYMOUS_HUGETLB("anonymous_hugetlb", 2L << 20, true, false),
    ANONYMOUS_HUGETLB_2MB("anonymous_hugetlb_2mb", 2L << 20, true, false),
    ANONYMOUS_HUGETLB_1GB("anonymous_hugetlb_1gb", 1L << 30, true, false),
    SHMEM("shmem", 4096, false, true),
    SHARED_HUGETLB("shared_hugetlb", 2L << 20, true, true);

    private final String cliName;
    private final long pageSize;
    private final boolean hugetlb;
    private final boolean shared;

    BackingSource(String cliName, long pageSize, boolean hugetlb, boolean shared) {
        this.cliName = cliName;
        this.pageSize = pageSize;
        this.hugetlb = hugetlb;
        this.shared = shared;
    }

    /** The name used by -s, as in the C selftests. */
    public String cliName() {
        return cliName;
    }

    /**
     * The backing page size (get_backing_src_pagesz): the granule in which demand paging resolves faults.
     * THP reports the PMD size; anonymous_hugetlb and shared_hugetlb report the default hugepage size.
     */
    public long pageSize() {
        return pageSize;
    }

    public boolean isHugetlb() {
        return hugetlb;
    }

    /** backing_src_is_shared(): memory a second mapping (the alias) can see, needed by uffd MINOR mode. */
    public boolean isShared() {
        return shared;
    }

    public static BackingSource parse(String name) {
        for (BackingSource s : values()) {
            if (s.cliName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("Unknown backing src type: " + name + " (valid: " + names() + ")");
    }

    public static String names() {
        return Arrays.stream(values()).map(BackingSource::cliName).collect(Collectors.joining(", "));
    }
}
