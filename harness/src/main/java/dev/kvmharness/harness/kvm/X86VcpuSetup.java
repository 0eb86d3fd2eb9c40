// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.kvm.bindings.KvmSegment;
import dev.kvmharness.kvm.bindings.KvmSregs;
import dev.kvmharness.kvm.bindings.KvmSregs.Seg;
import java.util.function.BiConsumer;

/**
 * Puts a vCPU straight into 64-bit long mode, the way lib/x86_64/processor.c's vcpu_init_sregs() and
 * vm_init_descriptor_tables() do: flat 64-bit code and data segments, a busy 64-bit TSS, paging on with the
 * harness-built page tables. The GDT lives in guest memory so that the hidden segment state KVM is given
 * matches what a descriptor load would produce.
 */
final class X86VcpuSetup {
    static final int KERNEL_CS = 0x8;
    static final int KERNEL_DS = 0x10;
    static final int KERNEL_TSS = 0x18;

    static final long CR0_PE = 1L;
    static final long CR0_NE = 1L << 5;
    static final long CR0_PG = 1L << 31;
    static final long CR4_PAE = 1L << 5;
    static final long CR4_OSFXSR = 1L << 9;
    static final long EFER_LME = 1L << 8;
    static final long EFER_LMA = 1L << 10;
    static final long EFER_NX = 1L << 11;

    /** RFLAGS bit 1 is reserved and must be set. */
    static final long RFLAGS_FIXED = 0x2;

    private X86VcpuSetup() {
    }

    static KvmSegment code64() {
        return new KvmSegment(0, 0xFFFFFFFF, KERNEL_CS, 0x08 | 0x01 | 0x02, true, 0, false, true, true, true, false, false);
    }

    static KvmSegment data64() {
        return new KvmSegment(0, 0xFFFFFFFF, KERNEL_DS, 0x00 | 0x01 | 0x02, true, 0, false, true, false, true, false, false);
    }

    static KvmSegment tss64(long base) {
        return new KvmSegment(base, 0x67, KERNEL_TSS, 0xb, true, 0, false, false, false, false, false, false);
    }

    /** Writes the code, data and TSS descriptors into the GDT page through {@code write64(gpa, value)}. */
    static void fillGdt(long gdtGpa, long tssBase, BiConsumer<Long, Long> write64) {
        for (KvmSegment s : new KvmSegment[] {code64(), data64(), tss64(tssBase)}) {
            long at = gdtGpa + (s.selector() >> 3) * 8L;
            write64.accept(at, descriptor(s));
            if (!s.s()) {
                // System descriptors are 16 bytes in long mode: base[63:32] follows.
                write64.accept(at + 8, s.base() >>> 32);
            }
        }
    }

    /** The 8-byte segment descriptor for {@code s} (Intel SDM vol. 3, 3.4.5). */
    static long descriptor(KvmSegment s) {
        long limit = s.limit() & 0xFFFFFFFFL;
        long base = s.base();
        long d = limit & 0xFFFF;
        d |= (base & 0xFFFFFF) << 16;
        d |= (long) (s.type() & 0xF) << 40;
        d |= (s.s() ? 1L : 0L) << 44;
        d |= (long) (s.dpl() & 3) << 45;
        d |= (s.present() ? 1L : 0L) << 47;
        d |= ((limit >>> 16) & 0xF) << 48;
        d |= (s.avl() ? 1L : 0L) << 52;
        d |= (s.l() ? 1L : 0L) << 53;
        d |= (s.db() ? 1L : 0L) << 54;
        d |= (s.g() ? 1L : 0L) << 55;
        d |= ((base >>> 24) & 0xFF) << 56;
        return d;
    }

    /** vcpu_init_sregs(): long mode, paging through {@code cr3}, the harness's descriptor tables. */
    static void initSregs(KvmSregs sregs, long gdt, long idt, long tss, long cr3, long pageSize) {
        sregs.setIdt(idt, 0);
        sregs.setGdt(gdt, (int) pageSize - 1);
        sregs.cr0(CR0_PE | CR0_NE | CR0_PG);
        sregs.cr4(sregs.cr4() | CR4_PAE | CR4_OSFXSR);
        sregs.efer(sregs.efer() | EFER_LME | EFER_LMA | EFER_NX);
        sregs.setSegment(Seg.LDT, KvmSegment.unusableSegment());
        sregs.setSegment(Seg.CS, code64());
        sregs.setSegment(Seg.DS, data64());
        sregs.setSegment(Seg.ES, data64());
        sregs.setSegment(Seg.GS, data64());
        sregs.setSegment(Seg.TR, tss64(tss));
        sregs.cr3(cr3);
    }
}
