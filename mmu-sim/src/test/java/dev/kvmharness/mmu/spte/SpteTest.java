// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.spte;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class SpteTest {
    @Test
    void specialValuesAreNotPresent() {
        assertThat(Spte.isPresent(Spte.NONPRESENT)).isFalse();
        assertThat(Spte.isPresent(Spte.FROZEN)).isFalse();
        assertThat(Spte.isFrozen(Spte.FROZEN)).isTrue();
        assertThat(Spte.FROZEN).as("FROZEN has no RWX bit").matches(v -> (v & Spte.RWX) == 0);
        assertThat(Spte.isMmio(Spte.FROZEN)).isFalse();
        assertThat(Spte.isMmio(Spte.NONPRESENT)).isFalse();
    }

    @Test
    void writableLeafIsDirtyAndFollowsTheWritableInvariants() {
        long s = Spte.makeLeaf(0x1234, 1, true, true, true, false);
        assertThat(Spte.isLeaf(s, 1)).isTrue();
        assertThat(Spte.isWritable(s) && Spte.isMmuWritable(s) && Spte.isHostWritable(s)).isTrue();
        assertThat(Spte.isDirty(s) && Spte.isAccessed(s)).isTrue();
        assertThat(Spte.pfn(s)).isEqualTo(0x1234);
        assertThat(Spte.writableInvariantsHold(s)).isTrue();
        long wrprot = s & ~Spte.WRITABLE;
        assertThat(Spte.writableInvariantsHold(wrprot)).isTrue();
        assertThat(Spte.hasVolatileBits(wrprot, 1)).as("MMU-writable but not writable: fast PF may set W").isTrue();
        assertThat(Spte.writableInvariantsHold(s & ~Spte.MMU_WRITABLE)).isFalse();
    }

    @Test
    void readOnlyHostPageGivesNoWriteBits() {
        long s = Spte.makeLeaf(7, 2, false, false, true, false);
        assertThat(s & (Spte.WRITABLE | Spte.MMU_WRITABLE | Spte.HOST_WRITABLE)).isZero();
        assertThat(s & Spte.LARGE).isNotZero();
        assertThat(Spte.isLastLevel(s, 2)).isTrue();
    }

    @Property
    void mmioSpteRoundTripsGfnAndGeneration(@ForAll @LongRange(max = (1L << 40) - 1) long gfn,
                                            @ForAll @LongRange(max = (1L << 19) - 1) long gen) {
        long s = Spte.makeMmio(gfn, gen);
        assertThat(Spte.isMmio(s)).isTrue();
        assertThat(Spte.isPresent(s)).isFalse();
        assertThat(Spte.mmioGfn(s)).isEqualTo(gfn);
        assertThat(Spte.mmioGeneration(s)).isEqualTo(gen);
    }

    @Property
    void splitChildrenCoverTheHugePage(@ForAll @IntRange(min = 2, max = 3) int level, @ForAll @IntRange(max = 511) int i) {
        long basePfn = 0x40000L << (9 * (level - 1));
        long huge = Spte.makeLeaf(basePfn, level, true, true, false, false);
        long child = Spte.makeSplitChild(huge, level, i, true);
        assertThat(Spte.pfn(child)).isEqualTo(basePfn + i * Spte.pagesPerEntry(level - 1));
        assertThat(Spte.isLastLevel(child, level - 1)).isTrue();
        assertThat(Spte.isExecutable(child)).isEqualTo(level - 1 == 1);
        assertThat(child & Spte.LARGE).isEqualTo(level - 1 > 1 ? Spte.LARGE : 0);
    }

    @Test
    void indexAndAlignmentFollowTheLevels() {
        long gfn = 0x12345678L;
        assertThat(Spte.index(gfn, 1)).isEqualTo((int) (gfn & 511));
        assertThat(Spte.index(gfn, 2)).isEqualTo((int) ((gfn >>> 9) & 511));
        assertThat(Spte.alignDown(gfn, 2)).isEqualTo(gfn & ~511L);
        assertThat(Spte.pagesPerEntry(3)).isEqualTo(512L * 512);
    }
}
