// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.junit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Counts of this process's open file descriptors and memory mappings, for leak tests. */
public final class ProcessResources {
    private ProcessResources() {
    }

    public static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static long mappings() {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The /proc/self/fd links that point at anon inodes KVM creates (kvm-vm, kvm-vcpu, kvm-vm-stats, ...). */
    public static long kvmFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    return target.startsWith("anon_inode:kvm") || target.equals("/dev/kvm");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
