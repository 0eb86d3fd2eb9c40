// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.kvmharness.kvm.bindings.Ioctl;
import dev.kvmharness.kvm.bindings.Uffd;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.Epoll;
import dev.kvmharness.sys.EventFd;
import dev.kvmharness.sys.IoctlException;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import dev.kvmharness.sys.SyscallException;
import dev.kvmharness.sys.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A userfaultfd: the UFFDIO_API handshake at creation, REGISTER for MISSING or MINOR faults, and the
 * resolving ioctls COPY, CONTINUE and ZEROPAGE. Reading messages is non-blocking (the fd is O_NONBLOCK, as
 * in the selftests) and driven by {@link #serve}.
 */
public final class Userfaultfd extends OwnedFd {
    private final long features;
    private final long apiIoctls;

    private Userfaultfd(int fd, long features, long apiIoctls) {
        super(fd, "userfaultfd");
        this.features = features;
        this.apiIoctls = apiIoctls;
    }

    /** userfaultfd(O_CLOEXEC | O_NONBLOCK) followed by UFFDIO_API requesting {@code features}. */
    public static Userfaultfd create(long features) {
        int fd = (int) Sys.syscall("userfaultfd", LibC.SYS_userfaultfd, LibC.O_CLOEXEC | LibC.O_NONBLOCK);
        Memory api = new Memory(Uffd.API_SIZE);
        api.clear();
        api.setLong(Uffd.API_OFF_API, Uffd.UFFD_API);
        api.setLong(Uffd.API_OFF_FEATURES, features);
        try {
            Sys.ioctl(fd, Ioctl.UFFDIO_API.name(), Ioctl.UFFDIO_API.number(), api);
        } catch (RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
        return new Userfaultfd(fd, api.getLong(Uffd.API_OFF_FEATURES), api.getLong(Uffd.API_OFF_IOCTLS));
    }

    /** The features the kernel granted in the API handshake. */
    public long features() {
        return features;
    }

    /** The ioctls bitmask returned by UFFDIO_API. */
    public long apiIoctls() {
        return apiIoctls;
    }

    /**
     * UFFDIO_REGISTER of [start, start+len) in {@code mode} (MISSING, MINOR, WP bits); returns the bitmask
     * of range ioctls the kernel allows on it.
     */
    public long register(long start, long len, long mode) {
        Memory reg = new Memory(Uffd.REGISTER_SIZE);
        reg.clear();
        reg.setLong(Uffd.REGISTER_OFF_RANGE + Uffd.RANGE_OFF_START, start);
        reg.setLong(Uffd.REGISTER_OFF_RANGE + Uffd.RANGE_OFF_LEN, len);
        reg.setLong(Uffd.REGISTER_OFF_MODE, mode);
        Sys.ioctl(fd(), Ioctl.UFFDIO_REGISTER.name(), Ioctl.UFFDIO_REGISTER.number(), reg);
        return reg.getLong(Uffd.REGISTER_OFF_IOCTLS);
    }

    public void unregister(long start, long len) {
        Memory range = range(start, len);
        Sys.ioctl(fd(), Ioctl.UFFDIO_UNREGISTER.name(), Ioctl.UFFDIO_UNREGISTER.number(), range);
    }

    public void wake(long start, long len) {
        Memory range = range(start, len);
        Sys.ioctl(fd(), Ioctl.UFFDIO_WAKE.name(), Ioctl.UFFDIO_WAKE.number(), range);
    }

    private static Memory range(long start, long len) {
        Memory range = new Memory(Uffd.RANGE_SIZE);
        range.setLong(Uffd.RANGE_OFF_START, start);
        range.setLong(Uffd.RANGE_OFF_LEN, len);
        return range;
    }

    /**
     * Per-thread argument buffers for the resolving ioctls: one is reused for every page a reader thread
     * resolves, so the fault path does not allocate native memory.
     */
    public static final class Scratch {
        final Memory copy = new Memory(Uffd.COPY_SIZE);
        final Memory cont = new Memory(Uffd.CONTINUE_SIZE);
        final Memory msg = new Memory(Uffd.MSG_SIZE);
        // The same memory seen from Java: filling an argument or decoding a message is plain loads and stores,
        // where Memory's accessors make a JNI call per field (eleven a page on the MISSING path).
        final ByteBuffer copyFields = view(copy);
        final ByteBuffer contFields = view(cont);
        final ByteBuffer msgFields = view(msg);
        final long msgAddress = Pointer.nativeValue(msg);

        private static ByteBuffer view(Memory m) {
            return m.getByteBuffer(0, m.size()).order(ByteOrder.nativeOrder());
        }
    }

    /** UFFDIO_COPY of {@code len} bytes from {@code src} to the faulting range at {@code dst}. */
    public void copy(Scratch s, long dst, long src, long len, long mode) {
        // Every input field is written; the kernel writes the one output field (copy), so nothing is cleared.
        s.copyFields.putLong(Uffd.COPY_OFF_DST, dst)
                .putLong(Uffd.COPY_OFF_SRC, src)
                .putLong(Uffd.COPY_OFF_LEN, len)
                .putLong(Uffd.COPY_OFF_MODE, mode);
        Sys.ioctl(fd(), Ioctl.UFFDIO_COPY.name(), Ioctl.UFFDIO_COPY.number(), s.copy);
    }

    /** UFFDIO_CONTINUE: map the page already in the page cache at [start, start+len). */
    public void cont(Scratch s, long start, long len) {
        s.contFields.putLong(Uffd.CONTINUE_OFF_RANGE + Uffd.RANGE_OFF_START, start)
                .putLong(Uffd.CONTINUE_OFF_RANGE + Uffd.RANGE_OFF_LEN, len)
                .putLong(Uffd.CONTINUE_OFF_MODE, 0);
        Sys.ioctl(fd(), Ioctl.UFFDIO_CONTINUE.name(), Ioctl.UFFDIO_CONTINUE.number(), s.cont);
    }

    /** UFFDIO_ZEROPAGE: map zero pages at [start, start+len). */
    public void zeropage(long start, long len) {
        Memory z = new Memory(Uffd.ZEROPAGE_SIZE);
        z.clear();
        z.setLong(Uffd.ZEROPAGE_OFF_RANGE + Uffd.RANGE_OFF_START, start);
        z.setLong(Uffd.ZEROPAGE_OFF_RANGE + Uffd.RANGE_OFF_LEN, len);
        Sys.ioctl(fd(), Ioctl.UFFDIO_ZEROPAGE.name(), Ioctl.UFFDIO_ZEROPAGE.number(), z);
    }

    /** Reads one struct uffd_msg; null when none is pending (EAGAIN: another reader took it). */
    public UffdMsg read(Scratch s) {
        long n = Syscalls.get().read(fd(), s.msgAddress, Uffd.MSG_SIZE);
        if (n < 0) {
            if (n == -Errno.EAGAIN.value()) {
                return null;
            }
            throw new SyscallException("read(userfaultfd)", (int) -n);
        }
        if (n != Uffd.MSG_SIZE) {
            throw new IllegalStateException("read on userfaultfd returned " + n + " bytes, expected " + Uffd.MSG_SIZE);
        }
        ByteBuffer m = s.msgFields;
        return new UffdMsg(m.get(Uffd.MSG_OFF_EVENT) & 0xff, m.getLong(Uffd.MSG_OFF_PAGEFAULT_FLAGS),
                m.getLong(Uffd.MSG_OFF_PAGEFAULT_ADDRESS), m.getInt(Uffd.MSG_OFF_PAGEFAULT_PTID));
    }

    /** Handles one page fault; {@code Scratch} is the calling reader's own. */
    @FunctionalInterface
    public interface Handler {
        void handle(Userfaultfd uffd, Scratch scratch, UffdMsg msg);
    }

    private static final long EVENT_UFFD = 0;
    private static final long EVENT_STOP = 1;

    /**
     * The reader loop of one handler thread, as uffd_handler_thread_fn(): epoll on the uffd (EPOLLEXCLUSIVE, so
     * one fault wakes one reader) and on {@code stop}; read and handle page-fault messages until {@code stop} is
     * signalled. Returns the number of faults handled.
     */
    public long serve(EventFd stop, Handler handler) {
        try (Epoll epoll = new Epoll()) {
            epoll.add(fd(), LibC.EPOLLIN | LibC.EPOLLEXCLUSIVE, EVENT_UFFD);
            epoll.add(stop.fd(), LibC.EPOLLIN, EVENT_STOP);
            Scratch scratch = new Scratch();
            long handled = 0;
            int r;
            // The loop runs once per thread, so the JIT would compile it only by on-stack replacement, which a
            // C1-only JVM does late: the body is a method of its own, compiled after its first few hundred calls.
            while ((r = serveOne(epoll, scratch, handler)) != SERVED_STOP) {
                handled += r;
            }
            return handled;
        }
    }

    private static final int SERVED_STOP = -1;

    /** One wake-up of the reader loop: 1 if it handled a page fault, 0 if not, {@link #SERVED_STOP} on stop. */
    private int serveOne(Epoll epoll, Scratch scratch, Handler handler) {
        long which = epoll.await(-1);
        if (which == EVENT_STOP) {
            return SERVED_STOP;
        }
        if ((epoll.lastEvents() & (LibC.EPOLLERR | LibC.EPOLLHUP)) != 0) {
            throw new IllegalStateException("reader received EPOLLERR or EPOLLHUP on the userfaultfd");
        }
        UffdMsg msg = read(scratch);
        if (msg == null || !msg.isPagefault()) {
            return 0;
        }
        handler.handle(this, scratch, msg);
        return 1;
    }

    /** True if a resolving ioctl failed because another reader resolved the same page first. */
    public static boolean alreadyResolved(IoctlException e) {
        return e.is(Errno.EEXIST);
    }
}
