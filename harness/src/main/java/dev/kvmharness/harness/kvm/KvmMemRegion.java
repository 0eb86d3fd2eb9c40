// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.MemRegion;

/** A memslot installed with KVM_SET_USER_MEMORY_REGION and the host memory behind it. */
final class KvmMemRegion implements MemRegion {
    private final int slot;
    private final long gpa;
    private final int flags;
    final HostMemory memory;

    KvmMemRegion(int slot, long gpa, int flags, HostMemory memory) {
        this.slot = slot;
        this.gpa = gpa;
        this.flags = flags;
        this.memory = memory;
    }

    /** The same memslot and memory at another gpa (after a move). */
    KvmMemRegion movedTo(long newGpa) {
        return new KvmMemRegion(slot, newGpa, flags, memory);
    }

    /** The same memslot and memory with other flags (vm_mem_region_set_flags()). */
    KvmMemRegion withFlags(int newFlags) {
        return new KvmMemRegion(slot, gpa, newFlags, memory);
    }

    @Override
    public int slot() {
        return slot;
    }

    @Override
    public long gpa() {
        return gpa;
    }

    @Override
    public long size() {
        return memory.size();
    }

    @Override
    public int flags() {
        return flags;
    }

    @Override
    public BackingSource source() {
        return memory.source();
    }

    @Override
    public long hva() {
        return memory.hva();
    }

    @Override
    public long alias() {
        return memory.aliasHva();
    }
}
