// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Guest memory as {@link GuestInterpreter} sees it: accesses of one {@link Width} at a guest-virtual address.
 * Translating the address (page tables, memslots, faults) is the implementation's business; the interpreter
 * has already wrapped {@code base + disp} modulo 2^64.
 *
 * <p>Implementations are little-endian like x86. A read returns the {@link Width#bytes()} bytes at {@code gva}
 * (the interpreter zero-extends whatever comes back); a write receives the value already truncated to the
 * width. An access the guest could not make (unmapped, out of range) should throw; the exception reaches
 * the caller of {@link GuestInterpreter#run}.
 */
public interface InterpreterMemory {
    long read(Width w, long gva);

    void write(Width w, long gva, long value);

    /**
     * {@link Insn.SetIdt}: the vCPU's IDT register, which lives with the memory because both are the
     * environment the interpreter runs in. Memories without a vCPU behind them have no IDT and refuse it.
     */
    default void setIdt(long base, int limit) {
        throw new UnsupportedOperationException(String.format("lidt (base 0x%x, limit 0x%x): this memory has no IDT", base, limit));
    }

    /**
     * {@code bytes} seen at guest-virtual addresses {@code gva .. gva + bytes.length - 1}; writes go through
     * to the array. Any access not wholly inside it throws {@link IllegalArgumentException}.
     */
    static InterpreterMemory flat(long gva, byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        return new InterpreterMemory() {
            private int offset(Width w, long address) {
                long off = address - gva;
                long last = (long) bytes.length - w.bytes();
                if (last < 0 || Long.compareUnsigned(off, last) > 0) {
                    throw new IllegalArgumentException(String.format("%d-byte guest access at gva 0x%x is outside"
                            + " 0x%x..0x%x", w.bytes(), address, gva, gva + bytes.length - 1));
                }
                return (int) off;
            }

            @Override
            public long read(Width w, long address) {
                int off = offset(w, address);
                return switch (w) {
                    case BYTE -> buf.get(off) & 0xffL;
                    case WORD -> buf.getShort(off) & 0xffffL;
                    case DWORD -> buf.getInt(off) & 0xffff_ffffL;
                    case QWORD -> buf.getLong(off);
                };
            }

            @Override
            public void write(Width w, long address, long value) {
                int off = offset(w, address);
                switch (w) {
                    case BYTE -> buf.put(off, (byte) value);
                    case WORD -> buf.putShort(off, (short) value);
                    case DWORD -> buf.putInt(off, (int) value);
                    case QWORD -> buf.putLong(off, value);
                }
            }
        };
    }
}
