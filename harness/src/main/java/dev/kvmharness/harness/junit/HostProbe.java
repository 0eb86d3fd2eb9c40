// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.kvm.Userfaultfd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What this machine's kernel offers beside KVM: userfaultfd and its features, free hugetlb pages, THP. Read
 * where the kvm backend's tests would fail without them (HostMemory, KvmDemandPaging), so that a missing one is
 * a skip with its name instead of an errno halfway through a test.
 */
final class HostProbe {
    private static final Path HUGEPAGES = Path.of("/sys/kernel/mm/hugepages");
    private static final Path THP_ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    private HostProbe() {
    }

    /**
     * The features UFFDIO_API grants a userfaultfd asked for none (the kernel answers with every feature it
     * has), or empty where userfaultfd() itself fails: no CONFIG_USERFAULTFD, or vm.unprivileged_userfaultfd=0
     * without CAP_SYS_PTRACE.
     */
    static Optional<Long> userfaultfdFeatures() {
        try (Userfaultfd uffd = Userfaultfd.create(0)) {
            return Optional.of(uffd.features());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** free_hugepages of the hugetlb pool of {@code bytes}-sized pages (0 where the size has no pool). */
    static long freeHugepages(long bytes) {
        return readLong(HUGEPAGES.resolve("hugepages-" + (bytes >> 10) + "kB").resolve("free_hugepages"));
    }

    /** HugePages_Free of /proc/meminfo: free pages of the default hugepage size. */
    static long freeDefaultHugepages() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("HugePages_Free:")) {
                    return Long.parseLong(line.substring("HugePages_Free:".length()).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no hugetlb in this kernel: none free
        }
        return 0;
    }

    /** THP is "always" or "madvise" (the harness madvise()s THP regions, as vm_mem_add() does). */
    static boolean transparentHugepages() {
        try {
            String mode = Files.readString(THP_ENABLED);
            return mode.contains("[always]") || mode.contains("[madvise]");
        } catch (IOException e) {
            return false;
        }
    }

    private static long readLong(Path p) {
        try {
            return Long.parseLong(Files.readString(p).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
