// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

/**
 * {@code struct vm_area_struct}: one contiguous range of an mm with uniform attributes. VMAs are split where
 * munmap, madvise or userfaultfd registration draw a boundary and merged back ({@code vma_merge}) when
 * neighbouring pieces of the same mmap() become equal again.
 */
final class Vma {
    long start;
    long end;
    /** Anonymous backing, or null for a shared file mapping. */
    final Backing backing;
    /** The mapped file, or null for anonymous memory. */
    final MemFd file;
    /** File offset (bytes) of {@link #start}. */
    long pgoff;
    /** PROT_WRITE; mprotect() changes it on whole VMAs (after splitting at the range's ends). */
    boolean writable;
    /** Which mmap() call created this VMA: only its pieces can merge ({@code anon_vma}/file compatibility). */
    final long origin;
    /** {@code vm_userfaultfd_ctx}. */
    Userfaultfd uffd;
    boolean uffdMissing;
    boolean uffdMinor;

    Vma(long start, long end, Backing backing, MemFd file, long pgoff, boolean writable, long origin) {
        this.start = start;
        this.end = end;
        this.backing = backing;
        this.file = file;
        this.pgoff = pgoff;
        this.writable = writable;
        this.origin = origin;
    }

    /** {@code vma_kernel_pagesize()}. */
    long pageSize() {
        return file != null ? file.pageSize() : backing.pageSize();
    }

    boolean isHugetlb() {
        return file != null ? file.isHugetlb() : backing.isHugetlb();
    }

    boolean isAnonymous() {
        return file == null;
    }

    boolean isShmem() {
        return file != null && !file.isHugetlb();
    }

    /** Byte offset in the file of hva. */
    long fileOffset(long hva) {
        return pgoff + (hva - start);
    }

    /** The piece {@code [at, end)} cut off this VMA ({@code __split_vma}); this VMA keeps {@code [start, at)}. */
    Vma splitOff(long at) {
        Vma tail = new Vma(at, end, backing, file, pgoff + (at - start), writable, origin);
        tail.uffd = uffd;
        tail.uffdMissing = uffdMissing;
        tail.uffdMinor = uffdMinor;
        end = at;
        return tail;
    }

    /** Whether next directly follows this VMA and could be one VMA with it ({@code is_mergeable_vma}). */
    boolean canMerge(Vma next) {
        return end == next.start && origin == next.origin && writable == next.writable && uffd == next.uffd
                && uffdMissing == next.uffdMissing
                && uffdMinor == next.uffdMinor;
    }

    @Override
    public String toString() {
        return String.format("vma[0x%x-0x%x %s%s]", start, end, file != null ? "memfd " + file.name() : backing,
                uffd == null ? "" : " uffd" + (uffdMissing ? " missing" : "") + (uffdMinor ? " minor" : ""));
    }
}
