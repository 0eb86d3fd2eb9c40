// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/**
 * A position in a guest program, created by {@link GuestBuilder#label()} and placed by a {@link Insn.Bind}.
 * Labels compare by identity: two labels are the same only if they are the same object, so a label from one
 * program can never silently resolve inside another (validation reports it as unbound instead).
 */
public final class Label {
    private final int id;

    Label(int id) {
        this.id = id;
    }

    /** Creation order within its builder; only for listings and messages. */
    public int id() {
        return id;
    }

    @Override
    public String toString() {
        return "L" + id;
    }
}
