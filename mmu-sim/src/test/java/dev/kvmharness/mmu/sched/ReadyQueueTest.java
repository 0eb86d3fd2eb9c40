// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class ReadyQueueTest {
    private static final Comparator<SimThread> ORDER = Comparator.<SimThread>comparingLong(t -> t.key)
            .thenComparingLong(t -> t.tie).thenComparingLong(t -> t.id);

    /** Random inserts, polls, removals and replaceTop against a sorted reference list. */
    @Property(tries = 200)
    void behavesLikeASortedList(@ForAll @Size(max = 300) List<@IntRange(min = 0, max = 99) Integer> ops) {
        ReadyQueue q = new ReadyQueue();
        List<SimThread> ref = new ArrayList<>();
        long id = 0;
        for (int op : ops) {
            if (op < 45 || ref.isEmpty()) {
                SimThread t = thread(id++, op % 7, op % 3);
                q.insert(t);
                ref.add(t);
            } else if (op < 70) {
                SimThread top = ref.stream().min(ORDER).orElseThrow();
                assertThat(q.poll()).isSameAs(top);
                ref.remove(top);
                assertThat(top.heapIndex).isEqualTo(-1);
            } else if (op < 90) {
                SimThread victim = ref.get(op % ref.size());
                q.remove(victim);
                ref.remove(victim);
                assertThat(victim.heapIndex).isEqualTo(-1);
            } else {
                SimThread top = ref.stream().min(ORDER).orElseThrow();
                SimThread t = thread(id++, op % 5, 0);
                assertThat(q.replaceTop(t)).isSameAs(top);
                ref.remove(top);
                ref.add(t);
            }
            assertThat(q.size()).isEqualTo(ref.size());
            assertThat(q.peek()).isSameAs(ref.stream().min(ORDER).orElse(null));
        }
        ref.sort(ORDER);
        for (SimThread t : ref) {
            assertThat(q.poll()).isSameAs(t);
        }
        assertThat(q.poll()).isNull();
    }

    private static SimThread thread(long id, long key, long tie) {
        SimThread t = new SimThread(null, "t" + id, id, key);
        t.key = key;
        t.tie = tie;
        return t;
    }
}
