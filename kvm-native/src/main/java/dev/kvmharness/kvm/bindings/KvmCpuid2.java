// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import java.util.ArrayList;
import java.util.List;

/**
 * struct kvm_cpuid2 with room for {@code capacity} struct kvm_cpuid_entry2: the argument of
 * KVM_GET_SUPPORTED_CPUID (the kernel writes nent and the entries) and KVM_SET_CPUID2.
 */
public final class KvmCpuid2 extends NativeStruct {
    public static final int OFF_NENT = 0;
    public static final int HEADER_SIZE = 8;
    public static final int ENTRY_SIZE = 40;
    public static final int ENTRY_OFF_FUNCTION = 0;
    public static final int ENTRY_OFF_INDEX = 4;
    public static final int ENTRY_OFF_FLAGS = 8;
    public static final int ENTRY_OFF_EAX = 12;
    public static final int ENTRY_OFF_EBX = 16;
    public static final int ENTRY_OFF_ECX = 20;
    public static final int ENTRY_OFF_EDX = 24;

    /** One struct kvm_cpuid_entry2 as a value. */
    public record Entry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    }

    private final int capacity;

    public KvmCpuid2(int capacity) {
        super(HEADER_SIZE + (long) capacity * ENTRY_SIZE);
        this.capacity = capacity;
        mem.setInt(OFF_NENT, capacity);
    }

    public static KvmCpuid2 of(List<Entry> entries) {
        KvmCpuid2 c = new KvmCpuid2(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            long o = HEADER_SIZE + (long) i * ENTRY_SIZE;
            c.mem.setInt(o + ENTRY_OFF_FUNCTION, e.function());
            c.mem.setInt(o + ENTRY_OFF_INDEX, e.index());
            c.mem.setInt(o + ENTRY_OFF_FLAGS, e.flags());
            c.mem.setInt(o + ENTRY_OFF_EAX, e.eax());
            c.mem.setInt(o + ENTRY_OFF_EBX, e.ebx());
            c.mem.setInt(o + ENTRY_OFF_ECX, e.ecx());
            c.mem.setInt(o + ENTRY_OFF_EDX, e.edx());
        }
        return c;
    }

    public int capacity() {
        return capacity;
    }

    public int nent() {
        return mem.getInt(OFF_NENT);
    }

    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < nent(); i++) {
            long o = HEADER_SIZE + (long) i * ENTRY_SIZE;
            out.add(new Entry(mem.getInt(o + ENTRY_OFF_FUNCTION), mem.getInt(o + ENTRY_OFF_INDEX),
                    mem.getInt(o + ENTRY_OFF_FLAGS), mem.getInt(o + ENTRY_OFF_EAX), mem.getInt(o + ENTRY_OFF_EBX),
                    mem.getInt(o + ENTRY_OFF_ECX), mem.getInt(o + ENTRY_OFF_EDX)));
        }
        return out;
    }
}
