// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PhysMemTest {
    private final PhysMem phys = new PhysMem();

    @Test
    void pfnsStartAboveZeroAndAreNeverHandedOutTwice() {
        long a = phys.alloc(0);
        long b = phys.alloc(0);
        assertThat(a).isEqualTo(PhysMem.FIRST_PFN);
        assertThat(b).isEqualTo(a + 1);
        phys.free(a, 0);
        assertThat(phys.isLive(a)).isFalse();
        long c = phys.alloc(0);
        assertThat(c).isNotEqualTo(a).isGreaterThan(b);
        assertThat(phys.livePages()).isEqualTo(2);
    }

    @Test
    void compoundPagesAreNaturallyAlignedAndLiveAsAWhole() {
        phys.alloc(0);
        long thp = phys.alloc(PhysMem.PMD_ORDER);
        long giga = phys.alloc(PhysMem.PUD_ORDER);
        assertThat(thp % 512).isZero();
        assertThat(giga % (1 << 18)).isZero();
        assertThat(phys.livePages()).isEqualTo(1 + 512 + (1 << 18));
        assertThat(phys.isLive(thp + 511)).isTrue();
        assertThat(phys.isLive(thp + 512)).isFalse();
        assertThat(phys.compoundHead(giga + 12345)).isEqualTo(giga);
        assertThat(phys.compoundOrder(giga + 12345)).isEqualTo(PhysMem.PUD_ORDER);
        assertThat(phys.compoundOrder(thp + 7)).isEqualTo(PhysMem.PMD_ORDER);
        phys.free(giga, PhysMem.PUD_ORDER);
        assertThat(phys.isLive(giga)).isFalse();
        assertThat(phys.isLive(giga + 99999)).isFalse();
        assertThat(phys.livePages()).isEqualTo(513);
    }

    @Test
    void freeingWithTheWrongOrderOrATailIsABadPage() {
        long thp = phys.alloc(PhysMem.PMD_ORDER);
        assertThatThrownBy(() -> phys.free(thp, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> phys.free(thp + 1, 0)).isInstanceOf(IllegalStateException.class);
        phys.free(thp, PhysMem.PMD_ORDER);
        assertThatThrownBy(() -> phys.free(thp, PhysMem.PMD_ORDER)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> phys.alloc(3)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void valuesAreLittleEndianAndNeverWrittenBytesReadZero() {
        long pfn = phys.alloc(0);
        assertThat(phys.read(pfn, 4088, 8)).isZero();
        phys.write(pfn, 8, 8, 0x0123_4567_89ab_cdefL);
        assertThat(phys.read(pfn, 8, 1)).isEqualTo(0xef);
        assertThat(phys.read(pfn, 8, 2)).isEqualTo(0xcdef);
        assertThat(phys.read(pfn, 12, 4)).isEqualTo(0x0123_4567L);
        assertThat(phys.read(pfn, 8, 8)).isEqualTo(0x0123_4567_89ab_cdefL);
        phys.write(pfn, 60, 8, -1L); // crosses a 64-byte line
        assertThat(phys.read(pfn, 60, 8)).isEqualTo(-1L);
        assertThat(phys.read(pfn, 59, 1)).isZero();
        assertThat(phys.read(pfn, 68, 1)).isZero();
    }

    @Test
    void accessesMustStayInsideOnePageAndUseAHardwareWidth() {
        long pfn = phys.alloc(0);
        assertThatThrownBy(() -> phys.read(pfn, 4093, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> phys.write(pfn, 0, 3, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> phys.fill(pfn, -1, 2, (byte) 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void freedAndNeverAllocatedPagesCannotBeAccessed() {
        long pfn = phys.alloc(0);
        phys.write(pfn, 0, 8, 42);
        phys.free(pfn, 0);
        assertThatThrownBy(() -> phys.read(pfn, 0, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("freed");
        assertThatThrownBy(() -> phys.read(pfn + 1000, 0, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("never allocated");
        assertThat(phys.dataPages()).isZero();
    }

    @Test
    void bytesExistOnlyOnceWrittenAndAreSmallForSparseWrites() {
        long pfn = phys.alloc(PhysMem.PMD_ORDER);
        for (int i = 0; i < 512; i++) {
            assertThat(phys.read(pfn + i, 128, 8)).isZero();
            phys.fill(pfn + i, 0, 100, (byte) 0);
        }
        assertThat(phys.dataPages()).isZero();
        assertThat(phys.dataBytes()).isZero();
        phys.write(pfn + 3, 0, 8, 7);
        assertThat(phys.dataPages()).isEqualTo(1);
        assertThat(phys.dataBytes()).isLessThan(400); // one cache line, not a 4 KiB array
        byte[] full = new byte[4096];
        Arrays.fill(full, (byte) 1);
        full[17] = 2;
        phys.writeBytes(pfn + 4, 0, full, 0, 4096);
        assertThat(phys.dataBytes()).isBetween(4096L, 4096L + 600);
    }

    @Test
    void uniformPagesCostNoContentBytes() {
        long giga = phys.alloc(PhysMem.PUD_ORDER);
        for (long p = giga; p < giga + 1024; p++) {
            phys.fill(p, 0, 4096, (byte) 0xab);
        }
        assertThat(phys.dataPages()).isEqualTo(1024);
        assertThat(phys.dataBytes()).isZero();
        assertThat(phys.read(giga + 1023, 4092, 4)).isEqualTo(0xabab_ababL);
        phys.write(giga, 0, 1, 0xcd);
        assertThat(phys.read(giga, 0, 2)).isEqualTo(0xabcd);
        byte[] zero = new byte[4096];
        phys.writeBytes(giga, 0, zero, 0, 4096);
        assertThat(phys.dataPages()).isEqualTo(1023);
    }

    @Test
    void writingManyLinesMakesThePageDenseWithTheSameContents() {
        long pfn = phys.alloc(0);
        for (int line = 0; line < 64; line++) {
            phys.write(pfn, line * 64 + 3, 1, line + 1);
        }
        assertThat(phys.dataBytes()).isEqualTo(16 + 4096);
        for (int line = 0; line < 64; line++) {
            assertThat(phys.read(pfn, line * 64 + 3, 1)).isEqualTo(line + 1);
            assertThat(phys.read(pfn, line * 64 + 4, 1)).isZero();
        }
    }

    @Test
    void foliosCarryReferencedAndDirtyForAllTheirPages() {
        long thp = phys.alloc(PhysMem.PMD_ORDER);
        long page = phys.alloc(0);
        assertThat(phys.isDirty(thp + 5)).isFalse();
        phys.markDirty(thp + 5);
        phys.markAccessed(thp + 300);
        assertThat(phys.isDirty(thp)).isTrue();
        assertThat(phys.isAccessed(thp + 511)).isTrue();
        assertThat(phys.isDirty(page)).isFalse();
        assertThat(phys.testAndClearAccessed(thp + 1)).isTrue();
        assertThat(phys.isAccessed(thp)).isFalse();
        assertThat(phys.isDirty(thp)).isTrue();
        phys.markAccessed(page);
        assertThat(phys.isAccessed(page)).isTrue();
        assertThat(phys.isDirty(page)).isFalse();
    }

    @Test
    void splittingAFolioKeepsPfnsBytesAndFlagsPerPage() {
        long thp = phys.alloc(PhysMem.PMD_ORDER);
        phys.write(thp + 9, 0, 4, 0xdead);
        phys.markDirty(thp);
        phys.splitPmdFolio(thp);
        assertThat(phys.compoundOrder(thp + 9)).isZero();
        assertThat(phys.isDirty(thp + 9)).isTrue();
        assertThat(phys.read(thp + 9, 0, 4)).isEqualTo(0xdead);
        phys.free(thp + 9, 0);
        assertThat(phys.isLive(thp + 9)).isFalse();
        assertThat(phys.isLive(thp + 10)).isTrue();
        assertThat(phys.livePages()).isEqualTo(511);
    }

    @Test
    void reservedBlocksHandOutEachPfnOnce() {
        long block = phys.reserve(PhysMem.PMD_ORDER);
        long other = phys.alloc(0);
        assertThat(other).isGreaterThanOrEqualTo(block + 512);
        assertThat(phys.neverUsed(block + 3)).isTrue();
        phys.allocReserved(block + 3);
        assertThat(phys.isLive(block + 3)).isTrue();
        phys.free(block + 3, 0);
        assertThat(phys.neverUsed(block + 3)).isFalse();
        assertThatThrownBy(() -> phys.allocReserved(block + 3)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void runningOutOfPfnsIsEnomem() {
        long count = 0;
        try {
            for (;;) {
                phys.reserve(PhysMem.PUD_ORDER);
                count++;
            }
        } catch (SimKvmException e) {
            assertThat(e.errno()).isEqualTo(KvmErrno.ENOMEM);
        }
        assertThat(count).isEqualTo((PhysMem.MAX_PFN - PhysMem.FIRST_PFN) >> PhysMem.PUD_ORDER);
    }
}
