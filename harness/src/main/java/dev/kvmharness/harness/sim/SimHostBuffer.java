// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.HostBuffer;
import dev.kvmharness.mmu.host.HostMm;

/** A memfd mapping in the simulated host mm: loads, stores, mprotect and munmap go through {@link HostMm}. */
final class SimHostBuffer implements HostBuffer {
    private final HostMm mm;
    private final long hva;
    private final long size;

    SimHostBuffer(HostMm mm, long hva, long size) {
        this.mm = mm;
        this.hva = hva;
        this.size = size;
    }

    @Override
    public long hva() {
        return hva;
    }

    @Override
    public long size() {
        return size;
    }

    /** The simulated shmem never allocates huge folios (only hugetlb memfds have them), so there is nothing to turn off. */
    @Override
    public void madviseNoHugepage() {
        check(0, size);
    }

    @Override
    public void write8(long offset, byte value) {
        check(offset, 1);
        mm.write(hva + offset, 1, value & 0xff);
    }

    @Override
    public long read64(long offset) {
        check(offset, 8);
        return mm.read(hva + offset, 8);
    }

    @Override
    public void mprotect(long offset, long len, boolean writable) {
        check(offset, len);
        mm.mprotect(hva + offset, len, writable);
    }

    @Override
    public void munmap(long offset, long len) {
        check(offset, len);
        mm.munmap(hva + offset, len);
    }

    private void check(long offset, long len) {
        if (offset < 0 || len < 0 || offset + len > size) {
            throw new IndexOutOfBoundsException("offset " + offset + " + " + len + " outside a buffer of " + size + " bytes");
        }
    }
}
