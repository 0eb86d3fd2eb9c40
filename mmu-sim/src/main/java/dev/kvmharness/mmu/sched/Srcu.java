// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * A struct srcu_struct in virtual time (kernel/rcu/srcutree.c, as KVM uses it for kvm->srcu): readers may
 * sleep inside their section, and synchronize waits for every reader that entered before it to leave, not for
 * readers that come later. Two reader counts, as SRCU keeps per-index counters: {@link #readLock()} returns
 * the index it counted in, {@link #synchronize()} flips new readers to the other index and waits for the old
 * one to drain.
 */
public final class Srcu {
    private final WaitQueue drained;
    private final int[] readers = new int[2];
    private int index;

    Srcu(SimScheduler sched, String name) {
        this.drained = sched.newWaitQueue(name + " grace period");
    }

    /** srcu_read_lock(): the index to hand back to {@link #readUnlock}. Not a scheduling point. */
    public int readLock() {
        int idx = index;
        readers[idx]++;
        return idx;
    }

    /** srcu_read_unlock(). Not a scheduling point. */
    public void readUnlock(int idx) {
        if (readers[idx] <= 0) {
            throw new IllegalStateException("srcu_read_unlock without srcu_read_lock on index " + idx);
        }
        if (--readers[idx] == 0) {
            drained.wakeAll();
        }
    }

    /** synchronize_srcu(): blocks the caller, in virtual time, until the readers that predate the call are gone. */
    public void synchronize() {
        int old = index;
        index ^= 1;
        drained.await(() -> readers[old] == 0);
    }

    /** Readers inside a section now, for reports and tests. */
    public int readers() {
        return readers[0] + readers[1];
    }
}
