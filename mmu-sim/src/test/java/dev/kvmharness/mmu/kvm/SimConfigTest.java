// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.policy.Policy;
import org.junit.jupiter.api.Test;

/** SimConfig's builder and withers: each changes the one knob it names and keeps the others. */
class SimConfigTest {
    @Test
    void defaultsAreA612HostWithoutHyperV() {
        SimConfig d = SimConfig.defaults();
        assertThat(d).isEqualTo(new SimConfig(48, 4096, 2048, false, 60, true, true, true, 64, true, Policy.current(),
                SimConfig.DEFAULT_LIVELOCK_FAULTS));
        assertThat(d.rootLevel()).isEqualTo(4);
    }

    @Test
    void eachWitherChangesOnlyItsField() {
        SimConfig d = SimConfig.defaults();
        assertThat(d.withYieldEvery(7)).isEqualTo(d.toBuilder().yieldEvery(7).build());
        assertThat(d.withYieldEvery(7).toBuilder().yieldEvery(d.yieldEvery()).build()).isEqualTo(d);
        assertThat(d.withPhysBits(52).physBits()).isEqualTo(52);
        assertThat(d.withPhysBits(52).rootLevel()).as("MAXPHYADDR 52 needs 5-level EPT").isEqualTo(5);
        assertThat(d.withPhysBits(52).withPhysBits(48)).isEqualTo(d);
        assertThat(d.withEagerPageSplit(false).eagerPageSplit()).isFalse();
        assertThat(d.withEagerPageSplit(false).withEagerPageSplit(true)).isEqualTo(d);
        assertThat(d.withOracle(false).withNxHugePages(true).withSlotZapAllQuirk(false))
                .isEqualTo(d.toBuilder().oracle(false).nxHugePages(true).slotZapAllQuirk(false).build());
        assertThat(d.withPolicy(Policy.legacy()).policy()).isEqualTo(Policy.legacy());
        assertThat(d.withLivelockFaults(5).livelockFaults()).isEqualTo(5);
        assertThat(d.withLivelockFaults(5).withLivelockFaults(SimConfig.DEFAULT_LIVELOCK_FAULTS)).isEqualTo(d);
    }

    @Test
    void badValuesAreRejectedWithTheirName() {
        assertThatThrownBy(() -> SimConfig.defaults().toBuilder().tlbEntries(3).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tlbEntries");
        assertThatThrownBy(() -> SimConfig.defaults().withPhysBits(60))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("physBits");
        assertThatThrownBy(() -> SimConfig.defaults().withPolicy(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("policy");
        assertThatThrownBy(() -> SimConfig.defaults().withLivelockFaults(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("livelockFaults");
    }
}
