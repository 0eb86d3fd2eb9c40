// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.junit.RequiresKvm;
import dev.kvmharness.selftests.conformance.Conformance;
import dev.kvmharness.selftests.conformance.History;
import dev.kvmharness.selftests.conformance.Op;
import dev.kvmharness.selftests.conformance.Quirk;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator against this host's /dev/kvm, by random histories ({@code conformance}): within the budget, no
 * divergence that a named quirk does not explain, every kind of step reached, and the command's report and
 * replay working end to end. {@code ci/bench.sh conformance} runs the long version.
 */
@RequiresKvm
class ConformanceIT {
    /** Steps in mvn verify: a few seconds here. */
    static final int BUDGET = 6000;

    @Test
    void theSimulatorAndKvmAgreeOnEveryStepOrAQuirkSaysWhy() {
        Conformance.Report r = Conformance.simAgainstKvm("current").run(1, BUDGET, 40, 3);
        System.out.printf("ConformanceIT: %d histories, %d steps, by kind %s; quirks hit %s%n", r.histories(), r.steps(),
                r.stepsByKind(), r.quirkHits());
        assertThat(r.divergences()).as("unexplained divergences (signatures %s), the first minimized: %s", r.bySignature(),
                r.minimized().isEmpty() ? "-" : r.minimized().get(0).prefix().ops()).isEmpty();
        assertThat(r.stepsByKind()).hasSize(Op.class.getPermittedSubclasses().length);
        assertThat(r.stepsByKind().values()).allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(BUDGET / 200));
        for (Quirk q : r.quirkHits().keySet()) {
            assertThat(Quirk.ofThisHost()).as("a quirk hit is one this host has").contains(q);
        }
    }

    @Test
    void theCommandReportsAndReplays(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("c.json");
        Path html = dir.resolve("c.html");
        SelftestsJar.Result r = SelftestsJar.run(300, "conformance", "--steps", "300", "--seed", "5", "--json", json.toString(),
                "--html", html.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("# conformance: the simulator (policy current) against /dev/kvm", "# 0 unexplained divergences");
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.get("steps").asLong()).isEqualTo(300);
        assertThat(report.get("unexplained_divergences").asInt()).isZero();
        assertThat(report.get("quirks")).hasSize(Quirk.ofThisHost().size());
        assertThat(report.get("simulator_stats").get("pf_fixed").asLong()).as("the histories made the simulator fault").isPositive();
        assertThat(java.nio.file.Files.readString(html)).contains("300 steps", "<b>0 unexplained divergences</b>", "GuestRead");
        Path history = dir.resolve("h.json");
        History h = new History(5, false, List.of(new Op.CreateSlot(10, 0, true, false), new Op.GuestWrite(0, 1, 0, 0x1234L),
                new Op.GetDirtyLog(10), new Op.HostRead(10, 1)));
        h.write(history);
        SelftestsJar.Result replay = SelftestsJar.run(120, "conformance", "--replay", history.toString());
        assertThat(replay.exit()).as(replay.all()).isZero();
        assertThat(replay.out()).contains("# replay of " + history + ": 4 steps", "# no divergence");
    }
}
