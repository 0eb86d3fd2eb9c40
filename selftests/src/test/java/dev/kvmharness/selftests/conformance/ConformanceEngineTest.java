// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.harness.sim.SimOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance engine without /dev/kvm: the simulator against itself, and against a copy of itself with a
 * planted difference, which the engine must find, minimize to the few steps that show it, and replay.
 */
class ConformanceEngineTest {
    private static List<String> sim(History h) {
        return HistoryRun.observe(new SimBackend(SimOptions.defaults(h.seed())), h);
    }

    /** The simulator, except that a guest read of a page holding a value reports 0: writes that got lost. */
    private static List<String> simLosingWrites(History h) {
        List<String> out = new ArrayList<>(sim(h));
        for (int i = 0; i < out.size(); i++) {
            if (h.ops().get(i) instanceof Op.GuestRead && out.get(i).startsWith("sync 0x") && !out.get(i).equals("sync 0x0")) {
                out.set(i, "sync 0x0");
            }
        }
        return out;
    }

    @Test
    void theSimulatorAgainstItselfNeverDiverges() {
        Conformance.Report r = new Conformance(ConformanceEngineTest::sim, ConformanceEngineTest::sim, List.of()).run(1, 400, 40, 1);
        assertThat(r.steps()).isEqualTo(400);
        assertThat(r.divergences()).isEmpty();
        assertThat(r.stepsByKind()).as("the generator reaches every kind of step").hasSize(Op.class.getPermittedSubclasses().length);
    }

    @Test
    void aPlantedDifferenceIsFoundMinimizedAndReplayed(@TempDir Path dir) throws Exception {
        Conformance c = new Conformance(ConformanceEngineTest::sim, ConformanceEngineTest::simLosingWrites, List.of());
        Conformance.Report r = c.run(1, 400, 40, 1);
        assertThat(r.divergences()).as("lost writes show as reads of 0").isNotEmpty();
        Conformance.Divergence d = r.minimized().get(0);
        History h = d.prefix();
        assertThat(h.ops()).as("minimized: a slot, a write, a read (%s)", h.ops()).hasSizeLessThanOrEqualTo(3);
        assertThat(h.ops().get(h.ops().size() - 1)).isInstanceOf(Op.GuestRead.class);
        assertThat(d.sim()).startsWith("sync 0x").isNotEqualTo("sync 0x0");
        assertThat(d.kvm()).isEqualTo("sync 0x0");
        Path file = dir.resolve("d.json");
        h.write(file);
        History back = History.read(file);
        assertThat(back).isEqualTo(h);
        Conformance.Divergence again = c.check(back);
        assertThat(again).as("the replay file diverges again").isNotNull();
        assertThat(again.step()).isEqualTo(d.step());
    }

    @Test
    void aQuirkExplainsOnlyItsOwnDivergence() {
        Op read = new Op.GuestRead(0, 0, 0);
        assertThat(Quirk.KVM_PVM_UNMAPPED_HVA_AS_MMIO.explains(read, HistoryRun.UNMAPPED_HVA + "KVM_RUN EFAULT",
                HistoryRun.UNMAPPED_HVA + "MMIO gpa=0xc0000000 len=8 read; sync 0x0")).isTrue();
        assertThat(Quirk.KVM_PVM_UNMAPPED_HVA_AS_MMIO.explains(read, "KVM_RUN EFAULT", "MMIO gpa=0xc0000000 len=8 read; sync 0x0"))
                .as("only for memory this history unmapped").isFalse();
        Op get = new Op.GetDirtyLog(10);
        String reads = HistoryRun.GUEST_READS + "0x3" + HistoryRun.NEVER_WRITTEN + "0x1)";
        assertThat(Quirk.SIM_NO_ZERO_PAGE.explains(get, "bitmap 0x1" + reads, "bitmap 0x0" + reads)).isTrue();
        assertThat(Quirk.SIM_NO_ZERO_PAGE.explains(get, "bitmap 0x2" + reads, "bitmap 0x0" + reads))
                .as("page 1 was read after a write: no zero page there").isFalse();
        assertThat(Quirk.SHADOW_PAGING_READ_NOT_DIRTY.explains(get, "bitmap 0x2" + reads, "bitmap 0x0" + reads)).isTrue();
        assertThat(Quirk.SHADOW_PAGING_READ_NOT_DIRTY.explains(get, "bitmap 0x4" + reads, "bitmap 0x0" + reads))
                .as("page 2 was never read: a dirty bit lost, not a read").isFalse();
        assertThat(Quirk.SHADOW_PAGING_READ_NOT_DIRTY.explains(get, "bitmap 0x0" + reads, "bitmap 0x1" + reads))
                .as("the host's bitmap has a bit the simulator's lacks").isFalse();
    }

    @Test
    void historiesAreTheSameForTheSameSeed() {
        assertThat(History.generate(7, 50)).isEqualTo(History.generate(7, 50));
        assertThat(History.generate(7, 50)).isNotEqualTo(History.generate(8, 50));
    }

    @Test
    void aBadReplayFileSaysWhatIsWrong(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"seed\": 1, \"ops\": [{\"op\": \"Reboot\", \"args\": []}]}");
        assertThatThrownBy(() -> History.read(file)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown step 'Reboot'");
        Files.writeString(file, "{\"seed\": 1, \"ops\": [{\"op\": \"DeleteSlot\", \"args\": [1, 2]}]}");
        assertThatThrownBy(() -> History.read(file)).hasMessageContaining("DeleteSlot takes 1 arguments, not 2");
        Files.writeString(file, "{\"seed\": 1}");
        assertThatThrownBy(() -> History.read(file)).hasMessageContaining("not a conformance history");
    }
}
