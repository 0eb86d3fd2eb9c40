// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import com.sun.jna.Pointer;

/** struct kvm_sregs (x86): segment registers, descriptor tables, control registers and EFER. */
public final class KvmSregs extends NativeStruct {
    /** The segment registers in struct order, each a struct kvm_segment. */
    public enum Seg {
        CS, DS, ES, FS, GS, SS, TR, LDT;

        public int offset() {
            return ordinal() * KvmSegment.SIZE;
        }
    }

    public static final int OFF_GDT = 192;
    public static final int OFF_IDT = 208;
    public static final int DTABLE_SIZE = 16;
    public static final int OFF_CR0 = 224;
    public static final int OFF_CR2 = 232;
    public static final int OFF_CR3 = 240;
    public static final int OFF_CR4 = 248;
    public static final int OFF_CR8 = 256;
    public static final int OFF_EFER = 264;
    public static final int OFF_APIC_BASE = 272;
    public static final int OFF_INTERRUPT_BITMAP = 280;
    public static final int SIZE = 312;

    public KvmSregs() {
        super(SIZE);
    }

    public KvmSegment segment(Seg seg) {
        Pointer p = mem.share(seg.offset());
        return new KvmSegment(p.getLong(KvmSegment.OFF_BASE), p.getInt(KvmSegment.OFF_LIMIT),
                p.getShort(KvmSegment.OFF_SELECTOR) & 0xffff, p.getByte(KvmSegment.OFF_TYPE) & 0xff,
                p.getByte(KvmSegment.OFF_PRESENT) != 0, p.getByte(KvmSegment.OFF_DPL) & 0xff,
                p.getByte(KvmSegment.OFF_DB) != 0, p.getByte(KvmSegment.OFF_S) != 0,
                p.getByte(KvmSegment.OFF_L) != 0, p.getByte(KvmSegment.OFF_G) != 0,
                p.getByte(KvmSegment.OFF_AVL) != 0, p.getByte(KvmSegment.OFF_UNUSABLE) != 0);
    }

    public void setSegment(Seg seg, KvmSegment s) {
        Pointer p = mem.share(seg.offset());
        p.setMemory(0, KvmSegment.SIZE, (byte) 0);
        p.setLong(KvmSegment.OFF_BASE, s.base());
        p.setInt(KvmSegment.OFF_LIMIT, s.limit());
        p.setShort(KvmSegment.OFF_SELECTOR, (short) s.selector());
        p.setByte(KvmSegment.OFF_TYPE, (byte) s.type());
        p.setByte(KvmSegment.OFF_PRESENT, flag(s.present()));
        p.setByte(KvmSegment.OFF_DPL, (byte) s.dpl());
        p.setByte(KvmSegment.OFF_DB, flag(s.db()));
        p.setByte(KvmSegment.OFF_S, flag(s.s()));
        p.setByte(KvmSegment.OFF_L, flag(s.l()));
        p.setByte(KvmSegment.OFF_G, flag(s.g()));
        p.setByte(KvmSegment.OFF_AVL, flag(s.avl()));
        p.setByte(KvmSegment.OFF_UNUSABLE, flag(s.unusable()));
    }

    private static byte flag(boolean b) {
        return (byte) (b ? 1 : 0);
    }

    public void setGdt(long base, int limit) {
        mem.setLong(OFF_GDT, base);
        mem.setShort(OFF_GDT + 8, (short) limit);
    }

    public void setIdt(long base, int limit) {
        mem.setLong(OFF_IDT, base);
        mem.setShort(OFF_IDT + 8, (short) limit);
    }

    public long idtBase() {
        return mem.getLong(OFF_IDT);
    }

    public int idtLimit() {
        return mem.getShort(OFF_IDT + 8) & 0xffff;
    }

    public long gdtBase() {
        return mem.getLong(OFF_GDT);
    }

    public long cr0() {
        return mem.getLong(OFF_CR0);
    }

    public void cr0(long v) {
        mem.setLong(OFF_CR0, v);
    }

    public long cr3() {
        return mem.getLong(OFF_CR3);
    }

    public void cr3(long v) {
        mem.setLong(OFF_CR3, v);
    }

    public long cr4() {
        return mem.getLong(OFF_CR4);
    }

    public void cr4(long v) {
        mem.setLong(OFF_CR4, v);
    }

    public long efer() {
        return mem.getLong(OFF_EFER);
    }

    public void efer(long v) {
        mem.setLong(OFF_EFER, v);
    }

    public long cr2() {
        return mem.getLong(OFF_CR2);
    }
}
