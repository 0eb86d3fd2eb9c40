// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@link Syscalls} through {@code libkvmharness-jni.so} ({@code src/main/c/jni_syscalls.c}), which kvm-native's
 * build compiles with gcc where gcc is installed. The library comes from {@value #LIBRARY_PROPERTY} when that
 * names a file (the container image, whose {@code /tmp} is noexec), else from the jar: copied to a temporary
 * file, loaded, and the file deleted at once (the mapping stays).
 */
final class JniSyscalls implements Syscalls {
    static final String LIBRARY_PROPERTY = "kvmharness.jni.library";
    static final String RESOURCE = "/dev/kvmharness/sys/libkvmharness-jni.so";

    private JniSyscalls() {
    }

    /**
     * The shim, loaded from {@code libraryPath} (null: from the jar); or, if it is missing or does not load, JNA
     * with the reason.
     */
    static Syscalls loadOrFallBack(String libraryPath) {
        try {
            if (libraryPath != null) {
                System.load(Path.of(libraryPath).toAbsolutePath().toString());
            } else {
                loadFromJar();
            }
            return new JniSyscalls();
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            return new JnaSyscalls("libkvmharness-jni.so: " + e.getMessage());
        }
    }

    private static void loadFromJar() throws IOException {
        try (InputStream in = JniSyscalls.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("not in the jar (kvm-native was built without gcc)");
            }
            Path tmp = Files.createTempFile("libkvmharness-jni", ".so");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                System.load(tmp.toString());
            } finally {
                Files.delete(tmp);
            }
        }
    }

    @Override
    public long ioctl(int fd, long request, long arg) {
        return ioctl0(fd, request, arg);
    }

    @Override
    public long read(int fd, long buf, long count) {
        return read0(fd, buf, count);
    }

    @Override
    public long epollWait(int epfd, long events, int maxEvents, int timeoutMs) {
        return epollWait0(epfd, events, maxEvents, timeoutMs);
    }

    @Override
    public String describe() {
        return "JNI (libkvmharness-jni.so)";
    }

    private static native long ioctl0(int fd, long request, long arg);

    private static native long read0(int fd, long buf, long count);

    private static native long epollWait0(int epfd, long events, int maxEvents, int timeoutMs);
}
