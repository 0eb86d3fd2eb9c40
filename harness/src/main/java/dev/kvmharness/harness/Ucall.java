// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.harness.guest.UcallKind;
import dev.kvmharness.harness.guest.UcallSite;

/**
 * A decoded guest-to-host call (struct ucall): GUEST_SYNC(stage), GUEST_DONE, GUEST_ASSERT's abort with the
 * rendered message and the failing values, or GUEST_PRINTF's text. {@code NONE} when the exit was not a
 * ucall.
 */
public record Ucall(Kind kind, long stage, String message, long[] values) {
    public enum Kind {
        NONE, SYNC, DONE, ABORT, PRINTF
    }

    public static final Ucall NONE = new Ucall(Kind.NONE, 0, "", new long[0]);

    /** Decodes a ucall site given the values of the registers it names, in order. */
    public static Ucall of(UcallSite site, long[] values) {
        Kind kind = kindOf(site.kind());
        long stage = kind == Kind.SYNC ? site.stage(values) : 0;
        return new Ucall(kind, stage, site.render(values), values);
    }

    public static Kind kindOf(UcallKind k) {
        switch (k) {
            case SYNC:
                return Kind.SYNC;
            case DONE:
                return Kind.DONE;
            case ABORT:
                return Kind.ABORT;
            default:
                return Kind.PRINTF;
        }
    }
}
