// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.Sims;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link HostMm#mappingChanges()}, what the stale-translation oracle's memo of checked translations is keyed
 * on: it must move on everything that can unmap a page or map an hva to another one (munmap, MADV_DONTNEED,
 * mprotect, a THP split by a partial unmap, the mm's teardown), and it may stand still on faults, which only
 * map what was unmapped.
 */
class HostMappingChangesTest {
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;

    private final SimScheduler sched = Sims.attached(1);
    private final PhysMem phys = new PhysMem();
    private final HostMm mm = new HostMm(sched, phys);

    @AfterEach
    void tearDown() {
        if (!mm.isClosed()) {
            mm.close();
        }
        sched.close();
    }

    private void touch(long hva, long len) {
        for (long a = hva; a < hva + len; a += K4) {
            mm.write(a, 8, a);
        }
    }

    @Test
    void faultsLeaveItAlone() {
        long a = mm.mmap(4 * M2, Backing.ANON);
        long before = mm.mappingChanges();
        touch(a, 4 * M2);
        mm.read(a, 8);
        assertThat(mm.mappingChanges()).as("after faulting in 2048 pages").isEqualTo(before);
    }

    @Test
    void everyUnmappingMovesIt() {
        long a = mm.mmap(8 * M2, Backing.ANON);
        long t = mm.mmap(2 * M2, Backing.ANON_THP);
        touch(a, 8 * M2);
        touch(t, 2 * M2);
        assertThat(mm.pfnIfMapped(t)).isNotNegative();

        long c = mm.mappingChanges();
        mm.madviseDontneed(a, K4);
        assertThat(mm.mappingChanges()).as("MADV_DONTNEED of one page").isGreaterThan(c);

        c = mm.mappingChanges();
        mm.mprotect(a + M2, K4, false);
        assertThat(mm.mappingChanges()).as("mprotect(PROT_READ)").isGreaterThan(c);

        c = mm.mappingChanges();
        mm.munmap(a + 2 * M2, K4);
        assertThat(mm.mappingChanges()).as("munmap of one page").isGreaterThan(c);

        c = mm.mappingChanges();
        mm.madviseDontneed(t + K4, K4);
        assertThat(mm.mappingChanges()).as("MADV_DONTNEED inside a THP (a split, then one page gone)").isGreaterThan(c);

        c = mm.mappingChanges();
        mm.close();
        assertThat(mm.mappingChanges()).as("the mm's teardown").isGreaterThan(c);
    }
}
