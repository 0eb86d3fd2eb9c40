// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.spte.Spte;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The vCPU's memo of its guest page-table pages' EPT translations ({@link GuestTableMemo}) never stands in for a
 * walk that would find something else: after KVM changes the SPTE of a page-table page, the next guest walk
 * walks the EPT again, with what the hardware does on the way (an EPT violation, the Accessed bit). The guest's
 * four tables and its two data pages sit in slot 2 (4K pages); gva {@link #GVA} and the page after it map the
 * data pages.
 */
class GuestTableMemoTest {
    private static final long GVA = 1L << 30;
    private static final long PAGE = 4096;
    private static final long PRESENT_WRITABLE = 0x3;
    /** Slot 2 page numbers: the PML4, PDPT, PD and PT, then the two data pages. */
    private static final int PML4 = 0, PDPT = 1, PD = 2, PT = 3, DATA = 16;

    private MmuWorld w;

    @BeforeEach
    void buildGuestPageTables() {
        w = new MmuWorld(1, SimConfig.defaults(), 1);
        table(PML4, 0, PDPT);
        table(PDPT, 1, PD);
        table(PD, 0, PT);
        table(PT, 0, DATA);
        table(PT, 1, DATA + 1);
        w.vcpus.get(0).setCr3(gpa(PML4));
    }

    @AfterEach
    void close() {
        w.close();
    }

    private static long gpa(int page) {
        return MmuWorld.SLOT2_GPA + page * PAGE;
    }

    /** Entry {@code index} of the table in slot 2 page {@code page} points at slot 2 page {@code to}. */
    private void table(int page, int index, int to) {
        w.mm.write(w.hva2 + page * PAGE + index * 8L, 8, gpa(to) | PRESENT_WRITABLE);
    }

    private void read(long gva) {
        assertThat(w.access(0, gva, false, false)).as("read of gva 0x%x", gva).isEqualTo(GuestExit.Reason.INTR);
    }

    /** The SPTE the vCPU's root maps slot 2 page {@code page} with. */
    private long spteOf(int page) {
        return w.kvm.tdpMmu().walk(w.vcpus.get(0).root(), gpa(page) >>> 12).spte();
    }

    @Test
    void aWalkAfterClearYoungSetsThePageTablesAccessedBitsAgain() {
        read(GVA);
        assertThat(Spte.isAccessed(spteOf(PT))).as("the walk's read of the PTE set A in the PT page's SPTE").isTrue();
        // Idle page tracking over slot 2: KVM clears the A bits (tdp_mmu_clear_spte_bits) and flushes nothing.
        w.mm.clearYoungRange(w.hva2, w.hva2 + MmuWorld.SLOT2_SIZE);
        assertThat(Spte.isAccessed(spteOf(PT))).isFalse();

        read(GVA + PAGE);
        for (int page : new int[] {PML4, PDPT, PD, PT}) {
            assertThat(Spte.isAccessed(spteOf(page)))
                    .as("slot 2 page %d (a guest page table) read by the walk after clear_young: the CPU sets A in"
                            + " its SPTE again, so the walk must not have been answered from the memo", page)
                    .isTrue();
        }
    }

    @Test
    void aWalkAfterTheTableSpteIsZappedTakesAnEptViolationForIt() {
        read(GVA);
        long faults = w.vcpus.get(0).stats().pfTaken;
        // mprotect(PROT_READ) of the PT page's host page: the MMU notifier zaps its SPTE.
        w.mm.mprotect(w.hva2 + PT * PAGE, PAGE, false);
        assertThat(Spte.isPresent(spteOf(PT))).isFalse();

        read(GVA + PAGE);
        assertThat(Spte.isPresent(spteOf(PT)))
                .as("the PT page's SPTE after the next walk: its PTE read faults it back in (read-only)").isTrue();
        assertThat(w.vcpus.get(0).stats().pfTaken - faults)
                .as("EPT violations of the second read: the zapped PT page and the new data page").isEqualTo(2);
    }
}
