// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import java.util.List;
import java.util.Objects;

/**
 * One call site of the guest's ucall table: what the host should make of an {@link Insn.Ucall} exit. The
 * guest passes only the site's index; the host then reads the registers listed in {@link #values()} (in
 * order) from the stopped vCPU, and formats {@link #format()} with them. Keeping the text on the host side
 * means the guest needs no string memory and no stack for messages.
 *
 * <p>A {@link UcallKind#SYNC} site carries its stage either in its single value register or, when it has no
 * value register, in {@link #constant()}; so {@code GUEST_SYNC(1)} costs the guest no register.
 */
public record UcallSite(UcallKind kind, String format, List<Reg> values, long constant) {
    /** The format of every sync site; the stage travels separately (see {@link #stage(long[])}). */
    public static final String SYNC_FORMAT = "sync";
    public static final String DONE_FORMAT = "done";

    public UcallSite {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(format, "format");
        values = List.copyOf(values);
        int conversions = UcallFormat.parse(format).conversions();
        if (kind == UcallKind.SYNC) {
            if (values.size() > 1) {
                throw new IllegalArgumentException("a sync ucall carries at most one stage register, got " + values);
            }
            if (!values.isEmpty() && constant != 0) {
                throw new IllegalArgumentException("a sync ucall has either a stage register or a constant stage");
            }
            if (conversions > values.size()) {
                throw new IllegalArgumentException("sync format \"" + format + "\" has more conversions than values");
            }
        } else {
            if (constant != 0) {
                throw new IllegalArgumentException(kind + " ucall cannot carry a constant");
            }
            if (conversions != values.size()) {
                throw new IllegalArgumentException("guest message format \"" + format + "\" has " + conversions
                        + " conversion(s) but " + values.size() + " value register(s) " + values);
            }
        }
    }

    /** GUEST_SYNC with a stage known when the program is written. */
    public static UcallSite sync(long stage) {
        return new UcallSite(UcallKind.SYNC, SYNC_FORMAT, List.of(), stage);
    }

    /** GUEST_SYNC with the stage held in {@code stage} at the time of the call. */
    public static UcallSite sync(Reg stage) {
        return new UcallSite(UcallKind.SYNC, SYNC_FORMAT, List.of(stage), 0);
    }

    public static UcallSite done() {
        return new UcallSite(UcallKind.DONE, DONE_FORMAT, List.of(), 0);
    }

    public static UcallSite abort(String format, List<Reg> values) {
        return new UcallSite(UcallKind.ABORT, format, values, 0);
    }

    public static UcallSite printf(String format, List<Reg> values) {
        return new UcallSite(UcallKind.PRINTF, format, values, 0);
    }

    /**
     * The sync stage, given the contents of {@link #values()} read at the exit: the stage register's value, or
     * the constant stage. Zero for other kinds.
     */
    public long stage(long[] valueRegsContents) {
        checkLength(valueRegsContents);
        if (kind != UcallKind.SYNC) {
            return 0;
        }
        return values.isEmpty() ? constant : valueRegsContents[0];
    }

    /**
     * The message, given the contents of {@link #values()} (same order, same length) read at the exit.
     * Conversions take the values in order; see {@code UcallFormat} for the supported subset.
     */
    public String render(long[] valueRegsContents) {
        checkLength(valueRegsContents);
        return UcallFormat.parse(format).render(valueRegsContents);
    }

    private void checkLength(long[] contents) {
        if (contents.length != values.size()) {
            throw new IllegalArgumentException("ucall site " + kind + " \"" + format + "\" has " + values.size()
                    + " value register(s), got " + contents.length + " value(s)");
        }
    }
}
