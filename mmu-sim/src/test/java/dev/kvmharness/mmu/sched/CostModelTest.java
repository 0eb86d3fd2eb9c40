// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CostModelTest {

    @Test
    void defaultsAreTheEnumEstimates() {
        CostModel d = CostModel.defaults();
        for (Cost c : Cost.values()) {
            assertThat(d.ns(c)).as(c.key()).isEqualTo(c.defaultNs());
        }
        assertThat(d.ns(Cost.RCU_GRACE_PERIOD)).isEqualTo(25_000);
        assertThat(d.ns(Cost.TLB_HIT)).isZero();
        assertThat(Cost.RCU_GRACE_PERIOD.key()).isEqualTo("rcu_grace_period");
    }

    @Test
    void parseOverridesListedKeysAndKeepsTheOthers() {
        CostModel m = CostModel.parse("costs.txt", List.of(
                "# costs measured on a slower host",
                "",
                "ipi = 900",
                "  vmexit=700   # inline comment",
                "rcu_grace_period = 1_000_000",
                "TLB_FILL = 0"));
        assertThat(m.ns(Cost.IPI)).isEqualTo(900);
        assertThat(m.ns(Cost.VMEXIT)).isEqualTo(700);
        assertThat(m.ns(Cost.RCU_GRACE_PERIOD)).isEqualTo(1_000_000);
        assertThat(m.ns(Cost.TLB_FILL)).isZero();
        assertThat(m.ns(Cost.VMENTRY)).isEqualTo(Cost.VMENTRY.defaultNs());
        assertThat(m.toString()).isEqualTo("CostModel[tlb_fill=0, vmexit=700, ipi=900, rcu_grace_period=1000000]");
    }

    @Test
    void unknownKeyNamesFileLineAndKey() {
        assertThatThrownBy(() -> CostModel.parse("costs.txt", List.of("ipi = 1", "# x", "ipi_storm = 3")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("costs.txt:3: unknown key 'ipi_storm'")
                .hasMessageContaining("guest_insn, guest_insn_smp, tlb_hit");
    }

    @Test
    void negativeValueIsRejected() {
        assertThatThrownBy(() -> CostModel.parse("c", List.of("lock = -5")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("c:1: negative value '-5' for 'lock': costs are >= 0 ns");
    }

    @Test
    void nonIntegerValuesAreRejected() {
        for (String v : List.of("1.5", "abc", "", "0x10", "12ns", "1__0", "_1")) {
            assertThatThrownBy(() -> CostModel.parse("c", List.of("", "lock = " + v)))
                    .as(v)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("c:2: value '" + v + "' for 'lock' is not a non-negative integer");
        }
        assertThatThrownBy(() -> CostModel.parse("c", List.of("lock = 99999999999999999999")))
                .hasMessage("c:1: value '99999999999999999999' for 'lock' does not fit in a long");
    }

    @Test
    void duplicateKeyNamesBothLines() {
        assertThatThrownBy(() -> CostModel.parse("c", List.of("ipi = 1", "lock = 2", "IPI = 3")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("c:3: duplicate key 'ipi' (first set on line 1)");
    }

    @Test
    void lineWithoutEqualsIsRejected() {
        assertThatThrownBy(() -> CostModel.parse("c", List.of("ipi 5")))
                .hasMessage("c:1: expected 'key = ns', got 'ipi 5'");
    }

    @Test
    void loadReadsAFileAndNamesItInErrors(@TempDir Path dir) throws IOException {
        Path good = Files.writeString(dir.resolve("good.cost"), "sp_alloc = 300\nsp_free=10\n");
        CostModel m = CostModel.load(good);
        assertThat(m.ns(Cost.SP_ALLOC)).isEqualTo(300);
        assertThat(m.ns(Cost.SP_FREE)).isEqualTo(10);

        Path bad = Files.writeString(dir.resolve("bad.cost"), "sp_alloc = 300\nsp_alloc = 1\n");
        assertThatThrownBy(() -> CostModel.load(bad)).hasMessageStartingWith(bad + ":2: duplicate key 'sp_alloc'");
    }

    @Test
    void withReturnsAModifiedCopy() {
        CostModel d = CostModel.defaults();
        CostModel m = d.with(Cost.IPI, 5);
        assertThat(m.ns(Cost.IPI)).isEqualTo(5);
        assertThat(d.ns(Cost.IPI)).isEqualTo(1200);
        assertThat(m).isNotEqualTo(d).isEqualTo(d.with(Cost.IPI, 5));
        assertThat(m.hashCode()).isEqualTo(d.with(Cost.IPI, 5).hashCode());
        assertThatThrownBy(() -> d.with(Cost.IPI, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void asMapIsInEnumOrderAndUnmodifiable() {
        Map<Cost, Long> map = CostModel.defaults().with(Cost.LOCK, 7).asMap();
        assertThat(map.keySet()).containsExactly(Cost.values());
        assertThat(map.get(Cost.LOCK)).isEqualTo(7L);
        assertThatThrownBy(() -> map.put(Cost.LOCK, 1L)).isInstanceOf(UnsupportedOperationException.class);
    }
}
