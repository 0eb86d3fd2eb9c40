// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * Host memory a test owns directly, outside the harness's memslot bookkeeping: kvm_memfd_alloc() followed by
 * mmap(MAP_SHARED), as max_guest_memory_test uses it to back every memslot with one file. The test passes
 * {@link #hva()} to {@link Vm#setUserMemoryRegion} itself; the buffer lives until the VM is closed (or, for
 * the parts unmapped with {@link #munmap}, until then).
 */
public interface HostBuffer {
    /** Host virtual address of the first byte. */
    long hva();

    long size();

    /** madvise(MADV_NOHUGEPAGE) over the whole buffer. */
    void madviseNoHugepage();

    /** A host store of one byte at {@code offset} (faults the page in, as the C test's pre-fault loop does). */
    void write8(long offset, byte value);

    /** A host load of 8 bytes at {@code offset}. */
    long read64(long offset);

    /** mprotect(): PROT_READ, or PROT_READ | PROT_WRITE when {@code writable}. */
    void mprotect(long offset, long len, boolean writable);

    /** munmap() of part of the buffer. */
    void munmap(long offset, long len);
}
