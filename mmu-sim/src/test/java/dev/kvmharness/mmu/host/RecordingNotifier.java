// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/** A secondary MMU that only records what the mm tells it, and whether chosen pfns were live at each call. */
final class RecordingNotifier implements MmuNotifierOps {
    final List<String> events = new ArrayList<>();
    /** Probed at every start/end: its answer is appended to the event, e.g. "page live". */
    LongPredicate probe;
    long probePfn = -1;
    boolean young;
    /** Runs inside every invalidateRangeStart, after recording: a stand-in for KVM taking its mmu_lock. */
    Runnable onStart = () -> { };

    @Override
    public void invalidateRangeStart(long start, long end, boolean mayBlock) {
        events.add(String.format("start %x-%x%s%s", start, end, mayBlock ? "" : " atomic", probed()));
        onStart.run();
    }

    @Override
    public void invalidateRangeEnd(long start, long end) {
        events.add(String.format("end %x-%x%s", start, end, probed()));
    }

    @Override
    public boolean clearFlushYoung(long start, long end) {
        events.add(String.format("clear_flush_young %x-%x", start, end));
        return young;
    }

    @Override
    public boolean clearYoung(long start, long end) {
        events.add(String.format("clear_young %x-%x", start, end));
        return young;
    }

    @Override
    public boolean testYoung(long hva) {
        events.add(String.format("test_young %x", hva));
        return young;
    }

    @Override
    public void release() {
        events.add("release");
    }

    private String probed() {
        if (probe == null) {
            return "";
        }
        return probe.test(probePfn) ? " live" : " freed";
    }
}
