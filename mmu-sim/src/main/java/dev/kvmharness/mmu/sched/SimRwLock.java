// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.util.ArrayList;
import java.util.List;

/**
 * A queued reader-writer lock in virtual time, the model of KVM's mmu_lock as an rwlock_t with qrwlock
 * semantics (kernel/locking/qrwlock.c): acquiring is a scheduling point; waiters queue FIFO by arrival; a
 * waiting writer blocks new readers; on release the head of the queue gets the lock, together with the readers
 * directly behind a reader head. Not reentrant; unlock by a non-holder throws IllegalStateException.
 *
 * <p>The lock charges for itself: {@link Cost#LOCK} per acquisition, plus {@link Cost#LOCK_HANDOFF} when the
 * acquirer had to wait (the lock's cache line comes from the releasing CPU). It records contention in virtual
 * time: the wait of an acquisition is the time from arrival to the release that granted it.
 */
public final class SimRwLock {
    private static final int READ = 1;
    private static final int WRITE = 2;

    private final SimScheduler sched;
    private final String name;
    private final String readDescription;
    private final String writeDescription;
    private final WaitList queue = new WaitList();
    private final List<SimThread> readers = new ArrayList<>();
    private SimThread writer;

    private long acquisitions;
    private long contendedAcquisitions;
    private long waitNs;
    private long maxWaitNs;
    private final long[] waitHistogram = new long[64];

    SimRwLock(SimScheduler sched, String name) {
        this.sched = sched;
        this.name = name;
        this.readDescription = "rwlock '" + name + "' for read";
        this.writeDescription = "rwlock '" + name + "' for write";
    }

    public String name() {
        return name;
    }

    /** read_lock(): shares the lock with other readers unless a writer holds it or any thread is queued. */
    public void readLock() {
        acquire(READ);
    }

    public void readUnlock() {
        SimThread cur = sched.current();
        if (!readers.remove(cur)) {
            throw new IllegalStateException("read_unlock of '" + name + "' by thread '" + cur.name
                    + "', which does not hold it for read");
        }
        if (readers.isEmpty()) {
            grantWaiters(cur);
        }
    }

    /** write_lock(): exclusive. */
    public void writeLock() {
        acquire(WRITE);
    }

    public void writeUnlock() {
        SimThread cur = sched.current();
        if (writer != cur) {
            throw new IllegalStateException("write_unlock of '" + name + "' by thread '" + cur.name
                    + "', which does not hold it for write");
        }
        writer = null;
        grantWaiters(cur);
    }

    public boolean isWriteLocked() {
        return writer != null;
    }

    public boolean isReadLockedByCurrent() {
        return readers.contains(sched.current());
    }

    public boolean isWriteLockedByCurrent() {
        return writer == sched.current();
    }

    /** rwlock_needbreak(): some thread is waiting for this lock. */
    public boolean contended() {
        return !queue.isEmpty();
    }

    /** Number of threads holding the lock for read. */
    public int readers() {
        return readers.size();
    }

    /** Total acquisitions, read and write. */
    public long acquisitions() {
        return acquisitions;
    }

    /** Acquisitions that had to queue. */
    public long contendedAcquisitions() {
        return contendedAcquisitions;
    }

    /** Total virtual time spent queued, ns. */
    public long waitNs() {
        return waitNs;
    }

    public long maxWaitNs() {
        return maxWaitNs;
    }

    /**
     * Acquisitions by wait, in power-of-two buckets: index 0 counts acquisitions that did not wait (0 ns); index
     * i >= 1 counts waits w with 2^(i-1) <= w < 2^i ns. A copy.
     */
    public long[] waitHistogramLog2() {
        return waitHistogram.clone();
    }

    private void acquire(int mode) {
        SimThread cur = sched.current();
        if (writer == cur || readers.contains(cur)) {
            throw new IllegalStateException((mode == READ ? "read_lock" : "write_lock") + " of '" + name
                    + "' by thread '" + cur.name + "', which already holds it for "
                    + (writer == cur ? "write" : "read") + ": the lock is not reentrant");
        }
        sched.yieldPoint();
        long arrival = cur.now;
        if (queue.isEmpty() && writer == null && (mode == READ || readers.isEmpty())) {
            take(cur, mode);
            record(0);
            sched.charge(cur, Cost.LOCK);
            return;
        }
        cur.waitMode = mode;
        cur.waitSince = arrival;
        queue.add(cur);
        try {
            sched.block(cur, mode == READ ? readDescription : writeDescription, SimScheduler.NO_DEADLINE);
        } catch (RuntimeException | Error e) {
            // not granted (grants only go to blocked threads, failures only to blocked ones): leave the queue,
            // and let whoever queued behind us have the lock if we were what held them back
            queue.remove(cur);
            grantWaiters(cur);
            throw e;
        }
        // the releaser granted us the lock and made us runnable at its release time
        long waited = cur.now - arrival;
        contendedAcquisitions++;
        waitNs += waited;
        maxWaitNs = Math.max(maxWaitNs, waited);
        record(waited);
        sched.charge(cur, Cost.LOCK);
        sched.charge(cur, Cost.LOCK_HANDOFF);
    }

    private void take(SimThread t, int mode) {
        if (mode == WRITE) {
            writer = t;
        } else {
            readers.add(t);
        }
    }

    private void record(long waited) {
        acquisitions++;
        waitHistogram[64 - Long.numberOfLeadingZeros(waited)]++;
    }

    /** Grants the lock to the head of the queue (and readers right behind a reader head), as a release does. */
    private void grantWaiters(SimThread releaser) {
        SimThread head;
        while ((head = queue.peek()) != null && writer == null) {
            if (head.waitMode == WRITE) {
                if (readers.isEmpty()) {
                    queue.poll();
                    writer = head;
                    sched.wake(head, releaser);
                }
                return;
            }
            queue.poll();
            readers.add(head);
            sched.wake(head, releaser);
        }
    }

    @Override
    public String toString() {
        return "SimRwLock[" + name + (writer != null ? ", write-locked by " + writer.name : "")
                + (readers.isEmpty() ? "" : ", " + readers.size() + " readers") + ", " + queue.size() + " queued]";
    }
}
