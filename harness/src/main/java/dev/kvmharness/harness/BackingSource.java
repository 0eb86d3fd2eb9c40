// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Where a memslot's memory comes from: the selftests' enum vm_mem_backing_src_type (lib/test_util.c),
 * with the same names on the command line (-s).
 */
public enum BackingSource {
    ANONYMOUS("anonymous", 4096, false, false),
    ANONYMOUS_THP("anonymous_thp", 2L << 20, false, false),
    ANONYMOUS_HUGETLB("anonymous_hugetlb", 0 /* the default hugepage size */, true, false),
    ANONYMOUS_HUGETLB_2MB("anonymous_hugetlb_2mb", 2L << 20, true, false),
    ANONYMOUS_HUGETLB_1GB("anonymous_hugetlb_1gb", 1L << 30, true, false),
    SHMEM("shmem", 4096, false, true),
    SHARED_HUGETLB("shared_hugetlb", 0 /* the default hugepage size */, true, true);

    /** Marks the sources that use the system's default hugepage size (no MAP_HUGE_* size flag). */
    private static final long DEFAULT_HUGEPAGE = 0;

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
     * THP reports the PMD size; anonymous_hugetlb and shared_hugetlb report the default hugepage size
     * (/proc/meminfo), the others the size in their name.
     */
    public long pageSize() {
        return pageSize != DEFAULT_HUGEPAGE ? pageSize : DefaultHugepageSize.BYTES;
    }

    /** True for the hugetlb sources that take the system's default hugepage size rather than naming one. */
    public boolean usesDefaultHugepageSize() {
        return pageSize == DEFAULT_HUGEPAGE;
    }

    /** "Hugepagesize:" of /proc/meminfo, read once (2 MiB if it cannot be read). */
    private static final class DefaultHugepageSize {
        static final long BYTES = read();

        private static long read() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                    if (line.startsWith("Hugepagesize:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // fall through to the x86 default
            }
            return 2L << 20;
        }
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
