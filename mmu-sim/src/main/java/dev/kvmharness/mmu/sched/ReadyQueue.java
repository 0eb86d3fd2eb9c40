// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.util.Arrays;

/**
 * The scheduler's runqueue: an indexed binary min-heap of threads keyed by (virtual time they may run at, seeded
 * tie-break, creation id). Holds runnable threads and threads in a timed wait (keyed by their deadline), so the
 * next thread to get the baton is always the top. Each thread stores its heap index, so a waiter woken before its
 * deadline is removed in O(log n) without searching.
 */
final class ReadyQueue {
    private SimThread[] heap = new SimThread[16];
    private int size;

    int size() {
        return size;
    }

    /** The thread that would run next, or null. */
    SimThread peek() {
        return size == 0 ? null : heap[0];
    }

    void insert(SimThread t) {
        if (t.heapIndex >= 0) {
            throw new IllegalStateException("thread '" + t.name + "' is already queued");
        }
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        siftUp(size++, t);
    }

    SimThread poll() {
        if (size == 0) {
            return null;
        }
        SimThread top = heap[0];
        SimThread last = heap[--size];
        heap[size] = null;
        if (size > 0) {
            siftDown(0, last);
        }
        top.heapIndex = -1;
        return top;
    }

    /** Pops the top and queues t in one sift (the yield path: t gives the baton to the top). */
    SimThread replaceTop(SimThread t) {
        SimThread top = heap[0];
        top.heapIndex = -1;
        siftDown(0, t);
        return top;
    }

    void remove(SimThread t) {
        int i = t.heapIndex;
        if (i < 0) {
            return;
        }
        t.heapIndex = -1;
        SimThread last = heap[--size];
        heap[size] = null;
        if (i < size) {
            siftDown(i, last);
            if (last.heapIndex == i) {
                siftUp(i, last);
            }
        }
    }

    /** True if a runs before b. */
    static boolean before(SimThread a, SimThread b) {
        if (a.key != b.key) {
            return a.key < b.key;
        }
        if (a.tie != b.tie) {
            return a.tie < b.tie;
        }
        return a.id < b.id;
    }

    private void siftUp(int i, SimThread t) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            SimThread p = heap[parent];
            if (!before(t, p)) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    private void siftDown(int i, SimThread t) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            SimThread c = heap[child];
            int right = child + 1;
            if (right < size && before(heap[right], c)) {
                child = right;
                c = heap[right];
            }
            if (!before(c, t)) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = t;
        t.heapIndex = i;
    }
}
