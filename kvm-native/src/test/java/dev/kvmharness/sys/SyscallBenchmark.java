// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one system call on the demand-paging hot path costs through each {@link Syscalls}: an epoll_wait that
 * finds nothing ready (it succeeds, as the reader's calls do) and an ioctl the fd rejects (the error path, where
 * JNA builds a {@code LastErrorException}). The JVM is the one {@code ci/compare-demand-paging.sh} runs the kvm
 * backend on (C1 only, Serial GC). Run with {@code ci/bench.sh syscalls}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 7, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"})
public class SyscallBenchmark {
    @Param({"jni", "jna"})
    public String calls;

    private Syscalls sys;
    private EventFd eventFd;
    private Epoll epoll;
    private Memory event;
    private long eventAddress;

    @Setup
    public void setUp() {
        sys = calls.equals("jni") ? JniSyscalls.loadOrFallBack(null) : new JnaSyscalls("chosen by the benchmark");
        if (calls.equals("jni") && !(sys instanceof JniSyscalls)) {
            throw new IllegalStateException("the JNI shim did not load: " + sys.describe());
        }
        eventFd = new EventFd();
        epoll = new Epoll();
        epoll.add(eventFd.fd(), LibC.EPOLLIN, 0);
        event = new Memory(12);
        eventAddress = Pointer.nativeValue(event);
    }

    @TearDown
    public void tearDown() {
        epoll.close();
        eventFd.close();
    }

    @Benchmark
    public long epollWaitNothingReady() {
        return sys.epollWait(epoll.fd(), eventAddress, 1, 0);
    }

    @Benchmark
    public long ioctlRejected() {
        return sys.ioctl(eventFd.fd(), 0xAE01L, 0);
    }
}
