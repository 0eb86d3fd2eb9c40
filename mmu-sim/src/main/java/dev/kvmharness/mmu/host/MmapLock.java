// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import dev.kvmharness.mmu.sched.SharedResource;
import dev.kvmharness.mmu.sched.SimRwLock;
import dev.kvmharness.mmu.sched.SimScheduler;

/**
 * {@code mm->mmap_lock}, the reader/writer semaphore of the simulated VMM's mm (include/linux/mmap_lock.h).
 * Faults that populate memory, {@code get_user_pages()} past its lockless fast path, and UFFDIO_COPY /
 * UFFDIO_CONTINUE take it for read; mmap, munmap and mprotect for write; madvise(MADV_DONTNEED) for read.
 *
 * <p>Two costs, both in virtual time. Writers exclude everyone ({@link SimRwLock}'s queueing). And readers,
 * although they never wait for each other, all do atomics on the semaphore's count word: the down_read and
 * up_read of hundreds of vCPUs pass that one cache line from CPU to CPU, one transfer at a time
 * ({@link SharedResource#atomic()}). That line is the host-side limit the seed series names ("dominated by
 * get_user_pages and the user fault FD ioctl") once the MMU lock is gone. Kernels since 6.4 fault and (since
 * 6.8) run UFFDIO_COPY under the per-VMA lock instead, whose count word is just as shared when all guest memory
 * is one VMA, as in the selftests; {@code get_user_pages()} still takes mmap_lock.
 */
final class MmapLock {
    private final SimRwLock sem;
    private final SharedResource countLine;

    MmapLock(SimScheduler sched) {
        this.sem = sched.newRwLock("mmap_lock");
        this.countLine = sched.newSharedResource("mmap_lock count");
    }

    /** {@code mmap_read_lock()}: a scheduling point. */
    void readLock() {
        sem.readLock();
        countLine.atomic();
    }

    /** {@code mmap_read_unlock()}. */
    void readUnlock() {
        countLine.atomic();
        sem.readUnlock();
    }

    /** {@code mmap_write_lock()}: a scheduling point. */
    void writeLock() {
        sem.writeLock();
        countLine.atomic();
    }

    /** {@code mmap_write_unlock()}. */
    void writeUnlock() {
        countLine.atomic();
        sem.writeUnlock();
    }

    /** The semaphore: acquisitions, waits for writers (or behind them). */
    SimRwLock semaphore() {
        return sem;
    }

    /** The count word's cache line: transfers and the time spent waiting for it. */
    SharedResource countLine() {
        return countLine;
    }
}
