// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

/**
 * A FIFO of blocked simulated threads, linked through fields of {@link SimThread} (like a list_head embedded in
 * a wait_queue_entry), so that enqueueing, dequeueing and removing a thread that stops waiting are O(1) and
 * allocation-free. A thread is on at most one list at a time.
 */
final class WaitList {
    private SimThread head;
    private SimThread tail;
    private int size;

    void add(SimThread t) {
        if (t.waitList != null) {
            throw new IllegalStateException("thread '" + t.name + "' is already waiting on another list");
        }
        t.waitList = this;
        t.waitPrev = tail;
        t.waitNext = null;
        if (tail == null) {
            head = t;
        } else {
            tail.waitNext = t;
        }
        tail = t;
        size++;
    }

    /** Removes t if it is on this list; returns whether it was. */
    boolean remove(SimThread t) {
        if (t.waitList != this) {
            return false;
        }
        if (t.waitPrev == null) {
            head = t.waitNext;
        } else {
            t.waitPrev.waitNext = t.waitNext;
        }
        if (t.waitNext == null) {
            tail = t.waitPrev;
        } else {
            t.waitNext.waitPrev = t.waitPrev;
        }
        t.waitList = null;
        t.waitPrev = null;
        t.waitNext = null;
        size--;
        return true;
    }

    SimThread peek() {
        return head;
    }

    SimThread poll() {
        SimThread t = head;
        if (t != null) {
            remove(t);
        }
        return t;
    }

    boolean isEmpty() {
        return head == null;
    }

    int size() {
        return size;
    }
}
