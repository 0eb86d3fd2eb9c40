// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.Sims;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Host-side metadata per faulted-in but never written 4K page stays under one byte (counted from the arrays
 * the model allocates), and sparse writes cost a cache line, not a page.
 */
class MemoryFootprintTest {
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;
    private static final long G1 = 1L << 30;

    private final SimScheduler sched = Sims.attached(3);
    private final PhysMem phys = new PhysMem();
    private final HostMm mm = new HostMm(sched, phys);

    @AfterEach
    void tearDown() {
        mm.close();
        sched.close();
    }

    private double bytesPerPage(long pages) {
        return (double) (phys.metadataBytes() + mm.pageTableBytes()) / pages;
    }

    @Test
    void fourKAnonymousPagesCostUnderOneBytePerPage() {
        long len = 4 * G1;
        long a = mm.mmap(len, Backing.ANON);
        for (long off = 0; off < len; off += K4) {
            mm.faultIn(a + off, (off & K4) == 0);
        }
        long pages = len / K4;
        assertThat(phys.livePages()).isEqualTo(pages);
        assertThat(phys.dataPages()).isZero();
        assertThat(phys.dataBytes()).isZero();
        assertThat(bytesPerPage(pages)).isLessThan(1.0);
        // one 8-byte store per page, as the dirty-logging selftests do: a word each, not 4 KiB
        long written = 65536;
        for (long p = 0; p < written; p++) {
            mm.write(a + p * K4 + 8 * (p % 512), 8, p + 1);
        }
        assertThat(phys.dataPages()).isEqualTo(written);
        assertThat((double) phys.dataBytes() / written).isLessThanOrEqualTo(24);
        for (long p = 0; p < written; p += 997) {
            assertThat(mm.read(a + p * K4 + 8 * (p % 512), 8)).isEqualTo(p + 1);
        }
        // a store of zero leaves a zero page zero: nothing to hold
        mm.write(a + written * K4, 8, 0);
        assertThat(phys.dataPages()).isEqualTo(written);
        mm.close();
        assertThat(phys.livePages()).isZero();
        assertThat(phys.dataPages()).isZero();
    }

    @Test
    void a128GiBThpGuestCostsHalfAByteAPage() {
        long len = 128 * G1;
        long a = mm.mmap(len, Backing.ANON_THP);
        for (long off = 0; off < len; off += M2) {
            assertThat(mm.faultIn(a + off, true).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_2M);
        }
        long pages = len / K4;
        assertThat(phys.livePages()).isEqualTo(pages);
        assertThat(phys.dataBytes()).isZero();
        // the flags nibbles of the folios' sections; page tables are one PMD entry per 2M
        assertThat(bytesPerPage(pages)).isLessThan(0.55);
        assertThat(mm.pageTableBytes()).isLessThan(1L << 20);
    }

    @Test
    void hugetlbAndShmemFilesStayUnderOneBytePerPage() {
        MemFd huge = new MemFd(phys, "huge", 64 * G1, G1);
        long h = mm.mmap(64 * G1, huge, 0);
        for (long off = 0; off < 64 * G1; off += G1) {
            mm.faultIn(h + off, false);
        }
        MemFd shm = new MemFd(phys, "shm", G1, K4);
        long s = mm.mmap(G1, shm, 0);
        long alias = mm.mmap(G1, shm, 0);
        for (long off = 0; off < G1; off += K4) {
            mm.faultIn(s + off, false);
            mm.faultIn(alias + off, false);
        }
        long pages = 64 * G1 / K4 + G1 / K4;
        assertThat(phys.livePages()).isEqualTo(pages);
        double perPage = (double) (phys.metadataBytes() + mm.pageTableBytes() + huge.indexBytes() + shm.indexBytes())
                / pages;
        assertThat(perPage).isLessThan(1.0);
    }
}
