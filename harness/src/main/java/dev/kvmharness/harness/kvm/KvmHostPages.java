// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.HostPages;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.TestSkipped;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * {@link HostPages} of this process and host: {@code /proc/self/pagemap} read and
 * {@code /sys/kernel/mm/page_idle/bitmap} read and written 8 bytes at a time with pread/pwrite (FileChannel's
 * positional reads and writes), each file opened once, on first use, and kept open for the process: several vCPU
 * threads use them at once, as the C test's threads use their own fds.
 */
final class KvmHostPages implements HostPages {
    static final KvmHostPages INSTANCE = new KvmHostPages();

    private volatile FileChannel pagemap;
    private volatile FileChannel bitmap;

    private KvmHostPages() {
    }

    /**
     * Why the bitmap cannot be opened O_RDWR here, as the C test's main() tries: "no ... (the kernel has no
     * CONFIG_IDLE_PAGE_TRACKING)" or the error; empty if it opens.
     */
    static Optional<String> pageIdleUnavailableReason() {
        try {
            FileChannel.open(Path.of(PAGE_IDLE_BITMAP), StandardOpenOption.READ, StandardOpenOption.WRITE).close();
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(why(PAGE_IDLE_BITMAP, e));
        }
    }

    private static String why(String file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return file + " does not exist"
                    + (file.equals(PAGE_IDLE_BITMAP) ? " (the kernel has no CONFIG_IDLE_PAGE_TRACKING)" : "");
        }
        if (e instanceof AccessDeniedException) {
            return file + ": permission denied (it needs root)";
        }
        return file + ": " + e;
    }

    @Override
    public long pagemapEntry(long hva) {
        long offset = Long.divideUnsigned(hva, PAGE_SIZE) * 8;
        return pread(channel(false), "pagemap", offset);
    }

    @Override
    public long readIdleBitmap(long index) {
        return pread(channel(true), "page_idle", index * 8);
    }

    @Override
    public void writeIdleBitmap(long index, long bits) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, bits);
        int n;
        try {
            n = channel(true).write(b, index * 8);
        } catch (IOException e) {
            throw new TestAssertionFailure("pwrite(page_idle_fd, &bits, 8, 8 * (pfn / 64)) == 8",
                    String.format("Set page_idle bits for PFN 0x%x", index * 64 + Long.numberOfTrailingZeros(bits)), e);
        }
        TestAssertionFailure.check(n == 8, "pwrite(page_idle_fd, &bits, 8, 8 * (pfn / 64)) == 8",
                "Set page_idle bits for PFN 0x%x", index * 64 + Long.numberOfTrailingZeros(bits));
    }

    /** pread_uint64(): exactly 8 bytes at offset, or the C test's assertion. */
    private static long pread(FileChannel c, String name, long offset) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        try {
            while (b.hasRemaining()) {
                if (c.read(b, offset + b.position()) <= 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new TestAssertionFailure("pread(fd, &value, sizeof(value), offset) == sizeof(value)",
                    String.format("pread from %s offset 0x%x failed!", name, offset), e);
        }
        TestAssertionFailure.check(!b.hasRemaining(), "pread(fd, &value, sizeof(value), offset) == sizeof(value)",
                "pread from %s offset 0x%x failed!", name, offset);
        return b.getLong(0);
    }

    private FileChannel channel(boolean idle) {
        FileChannel c = idle ? bitmap : pagemap;
        if (c != null) {
            return c;
        }
        synchronized (this) {
            c = idle ? bitmap : pagemap;
            if (c == null) {
                String file = idle ? PAGE_IDLE_BITMAP : PAGEMAP;
                try {
                    c = idle ? FileChannel.open(Path.of(file), StandardOpenOption.READ, StandardOpenOption.WRITE)
                            : FileChannel.open(Path.of(file), StandardOpenOption.READ);
                } catch (IOException e) {
                    throw new TestSkipped(why(file, e));
                }
                if (idle) {
                    bitmap = c;
                } else {
                    pagemap = c;
                }
            }
            return c;
        }
    }
}
