// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/** struct kvm_regs (arch/x86/include/uapi/asm/kvm.h): the general purpose registers, RIP and RFLAGS. */
public final class KvmRegs extends NativeStruct {
    /** The fields in struct order; each is a __u64 at {@code ordinal() * 8}. */
    public enum Field {
        RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8, R9, R10, R11, R12, R13, R14, R15, RIP, RFLAGS;

        public int offset() {
            return ordinal() * 8;
        }
    }

    public static final int SIZE = Field.values().length * 8;

    public KvmRegs() {
        super(SIZE);
    }

    public long get(Field f) {
        return mem.getLong(f.offset());
    }

    public void set(Field f, long value) {
        mem.setLong(f.offset(), value);
    }

    /** Copies every register from another snapshot. */
    public void copyFrom(KvmRegs other) {
        mem.write(0, other.mem.getByteArray(0, SIZE), 0, SIZE);
    }
}
