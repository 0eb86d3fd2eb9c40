// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both {@link Syscalls} implementations on an eventfd, where every outcome is cheap to provoke: a result, each
 * errno the hot paths branch on (EAGAIN for an empty uffd, EINTR's neighbour EBADF, ENOTTY for a wrong ioctl),
 * and an epoll event's data.
 */
class SyscallsTest {
    private static final String NO_SUCH_LIBRARY = "/nonexistent/libkvmharness-jni.so";

    static Stream<Syscalls> implementations() {
        return Stream.of(Syscalls.get(), JniSyscalls.loadOrFallBack(null), new JnaSyscalls("chosen by the test"));
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void readReturnsTheCountAndTheBytes(Syscalls sys) {
        try (EventFd efd = new EventFd()) {
            efd.signal();
            efd.signal();
            Memory buf = new Memory(8);
            assertThat(sys.read(efd.fd(), Pointer.nativeValue(buf), 8)).isEqualTo(8);
            assertThat(buf.getLong(0)).as("the eventfd counter after two signals").isEqualTo(2);
        }
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void failuresComeBackAsMinusErrno(Syscalls sys) {
        try (EventFd efd = new EventFd()) {
            Memory buf = new Memory(8);
            assertThat(sys.read(efd.fd(), Pointer.nativeValue(buf), 8)).as("read of an empty non-blocking eventfd")
                    .isEqualTo(-Errno.EAGAIN.value());
            assertThat(sys.ioctl(efd.fd(), 0xAE01L, 0)).as("a KVM ioctl on an eventfd").isEqualTo(-Errno.ENOTTY.value());
            assertThat(sys.ioctl(-1, 0xAE01L, 0)).as("ioctl on fd -1").isEqualTo(-Errno.EBADF.value());
            assertThat(sys.epollWait(-1, Pointer.nativeValue(buf), 1, 0)).as("epoll_wait on fd -1")
                    .isEqualTo(-Errno.EBADF.value());
        }
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void epollWaitReturnsTheEventsData(Syscalls sys) {
        try (EventFd efd = new EventFd(); Epoll epoll = new Epoll()) {
            epoll.add(efd.fd(), LibC.EPOLLIN, 0x1234_5678_9abcL);
            Memory event = new Memory(12);
            assertThat(sys.epollWait(epoll.fd(), Pointer.nativeValue(event), 1, 0)).as("nothing ready").isZero();
            efd.signal();
            assertThat(sys.epollWait(epoll.fd(), Pointer.nativeValue(event), 1, 0)).isEqualTo(1);
            assertThat(event.getInt(0) & LibC.EPOLLIN).isEqualTo(LibC.EPOLLIN);
            assertThat(event.getLong(4)).isEqualTo(0x1234_5678_9abcL);
        }
    }

    /** Where the build compiled the shim (gcc present), the hot paths must be using it. */
    @Test
    @EnabledIfSystemProperty(named = "kvmharness.jni.built", matches = "true")
    void theShimIsInUseWhereItWasBuilt() {
        assertThat(Syscalls.get().describe()).startsWith("JNI");
    }

    @Test
    void aMissingLibraryFallsBackToJnaAndSaysWhy() {
        Syscalls sys = JniSyscalls.loadOrFallBack(NO_SUCH_LIBRARY);
        assertThat(sys).isInstanceOf(JnaSyscalls.class);
        assertThat(sys.describe()).startsWith("JNA (libkvmharness-jni.so: ").contains(NO_SUCH_LIBRARY);
    }
}
