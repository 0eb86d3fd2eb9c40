// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One step of a conformance history: something userspace does to a VM whose outcome it can observe. Slots are
 * ids 10-12 of {@link History#PAGES} pages each; a slot sits at one of {@link History#POSITIONS} guest-physical
 * positions, two pages apart, so neighbours overlap and a move onto one is refused. Every operand is a small
 * number, so a history is data: printed, written to a replay file, and pasted into a test as it is.
 */
public sealed interface Op {
    /**
     * KVM_SET_USER_MEMORY_REGION creating {@code slot} at {@code pos} on fresh anonymous memory, dirty-logged
     * and/or read-only (a guest write to it exits to userspace as MMIO).
     */
    record CreateSlot(int slot, int pos, boolean logDirty, boolean readOnly) implements Op {
    }

    /** KVM_SET_USER_MEMORY_REGION with size 0. */
    record DeleteSlot(int slot) implements Op {
    }

    /** KVM_SET_USER_MEMORY_REGION moving {@code slot} to {@code pos}. */
    record MoveSlot(int slot, int pos) implements Op {
    }

    /** KVM_SET_USER_MEMORY_REGION changing only KVM_MEM_LOG_DIRTY_PAGES. */
    record SetDirtyLogging(int slot, boolean on) implements Op {
    }

    /** The guest reads 8 bytes at word {@code word} of page {@code page} of position {@code pos} and reports it. */
    record GuestRead(int pos, int page, int word) implements Op {
    }

    /** The guest writes {@code value} there and reports it. */
    record GuestWrite(int pos, int page, int word, long value) implements Op {
    }

    /** Userspace writes {@code value} to the first word of {@code page} of {@code slot}'s memory. */
    record HostWrite(int slot, int page, long value) implements Op {
    }

    /** Userspace reads the first word of {@code page} of {@code slot}'s memory. */
    record HostRead(int slot, int page) implements Op {
    }

    /** KVM_GET_DIRTY_LOG of {@code slot}. */
    record GetDirtyLog(int slot) implements Op {
    }

    /** KVM_CLEAR_DIRTY_LOG of the pages of {@code slot} whose bits are set in {@code mask}. */
    record ClearDirtyLog(int slot, long mask) implements Op {
    }

    /** madvise(MADV_DONTNEED) of {@code pages} pages of {@code slot}'s memory from {@code page}. */
    record Dontneed(int slot, int page, int pages) implements Op {
    }

    /** munmap of {@code slot}'s host memory, leaving the memslot in place. */
    record Munmap(int slot) implements Op {
    }

    /** The operation's kind, for the report's counts: the record's simple name. */
    default String kind() {
        return getClass().getSimpleName();
    }

    /** The operands, in declaration order. */
    default List<Object> args() {
        List<Object> out = new ArrayList<>();
        for (RecordComponent c : getClass().getRecordComponents()) {
            try {
                out.add(c.getAccessor().invoke(this));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /** The Java expression that makes this step, as a pasted test writes it: {@code new Op.GuestRead(2, 1, 0)}. */
    default String java() {
        StringBuilder sb = new StringBuilder("new Op.").append(kind()).append('(');
        List<Object> args = args();
        for (int i = 0; i < args.size(); i++) {
            Object a = args.get(i);
            sb.append(i == 0 ? "" : ", ").append(a instanceof Long l ? String.format(Locale.ROOT, "0x%xL", l) : a);
        }
        return sb.append(')').toString();
    }

    /** The step as the report prints it: {@code GuestRead(2, 1, 0)}. */
    default String describe() {
        return java().substring("new Op.".length());
    }
}
