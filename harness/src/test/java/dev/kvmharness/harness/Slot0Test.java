// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.x86.GuestPhysicalMemory;
import dev.kvmharness.harness.x86.PageSize;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Slot 0's guest-virtual layout: only its data area is identity mapped, so however large slot 0 grows to hold
 * page tables, it never reaches the test regions' virtual addresses (the bug behind
 * {@code demand_paging_test -b 1T -v 2} failing with "cannot map SIZE_4K at gva 0xc0000000: already inside a
 * SIZE_2M page").
 */
class Slot0Test {
    /** Sparse guest memory: unwritten words read as zero. */
    private static final class Sparse implements GuestPhysicalMemory {
        final Map<Long, Long> words = new HashMap<>();

        @Override
        public long read64(long gpa) {
            return words.getOrDefault(gpa, 0L);
        }

        @Override
        public void write64(long gpa, long value) {
            words.put(gpa, value);
        }
    }

    /** demand_paging_test -b 1T -v 2: slot 0 sized for the page tables of 2 TiB of 4K pages (about 8 GiB). */
    private static final int VCPUS = 2;
    private static final long TEST_PAGES = 2L * (1L << 40) / 4096;

    private static Slot0 bigSlot0(GuestPhysicalMemory mem) {
        long slot0Pages = Slot0Layout.pagesRequired(VCPUS, TEST_PAGES);
        assertThat(slot0Pages * 4096).as("slot 0 reaches past the test region's gva").isGreaterThan(Memstress.GUEST_TEST_VIRT_MEM);
        return Slot0.build(mem, slot0Pages, Slot0Layout.dataPages(VCPUS), 4096, PageSize.SIZE_2M, 4);
    }

    @Test
    void theTestRegionMapsAtItsGvaHoweverBigSlotZeroIs() {
        Sparse mem = new Sparse();
        Slot0 s = bigSlot0(mem);
        long gpa = 0xfdfffffff000L & -(1L << 21);
        assertThatCode(() -> s.virtMap(Memstress.GUEST_TEST_VIRT_MEM, gpa, 4L << 20)).doesNotThrowAnyException();
        assertThat(s.pageTables().translate(Memstress.GUEST_TEST_VIRT_MEM + 0x1234)).hasValue(gpa + 0x1234);
    }

    @Test
    void dataIsIdentityMappedAndPageTablesAreNotMappedAtAll() {
        Sparse mem = new Sparse();
        Slot0 s = bigSlot0(mem);
        long data = s.vaddrAlloc(3 * 4096);
        assertThat(s.pageTables().translate(data)).hasValue(data);
        assertThat(s.pageTables().translate(data + 2 * 4096 + 8)).hasValue(data + 2 * 4096 + 8);
        long dataEnd = Slot0Layout.dataPages(VCPUS) * 4096;
        assertThat(s.pageTables().cr3()).isGreaterThanOrEqualTo(dataEnd);
        assertThat(s.pageTables().translate(s.pageTables().cr3())).isEmpty();
        assertThat(s.pageTables().translate(dataEnd)).isEmpty();
    }

    @Test
    void theDataAreaRunsOutInsteadOfSpillingIntoThePageTables() {
        Slot0 s = Slot0.build(new Sparse(), Slot0Layout.pagesRequired(1, 0), Slot0Layout.dataPages(1), 4096, PageSize.SIZE_2M, 4);
        s.vaddrAlloc((Slot0Layout.dataPages(1) - 1) * 4096);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.vaddrAlloc(1))
                .isInstanceOf(TestAssertionFailure.class).hasMessageContaining("No guest physical pages available");
    }
}
