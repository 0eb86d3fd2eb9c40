// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

/**
 * A guest that does what a mailbox in its memory says, one access per KVM_RUN: the host writes {op, gva, value}
 * at the mailbox (the vCPU's arg0), the guest reads or writes 8 bytes at gva and reports the value read or
 * written with a GUEST_SYNC, then starts over. Lets a test drive single guest accesses step by step and see how
 * each ends (the sync, an MMIO exit, KVM_RUN's errno) on either backend.
 */
public final class MailboxGuest {
    /** The mailbox's op word: read 8 bytes at the address. */
    public static final int READ = 0;
    /** The mailbox's op word: write the value at the address. */
    public static final int WRITE = 1;
    /** Byte offsets of the mailbox's words. */
    public static final int OP = 0;
    public static final int ADDR = 8;
    public static final int VALUE = 16;

    public static final GuestProgram PROGRAM = GuestProgram.define("mailbox", g -> {
        Reg box = g.arg(0);
        Reg op = g.temp();
        Reg addr = g.temp();
        Reg val = g.temp();
        g.loop(() -> {
            g.load64(op, box, OP);
            g.load64(addr, box, ADDR);
            g.load64(val, box, VALUE);
            g.ifElse(Cond.EQ, op, READ, () -> g.load64(val, addr, 0), () -> g.store64(addr, 0, val));
            g.ucall(UcallSite.sync(val));
        });
    });

    private MailboxGuest() {
    }
}
