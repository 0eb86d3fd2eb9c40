// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.junit.RequiresKvm;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.CostModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * calibrate end to end on /dev/kvm, kept small (about 10 s here): one training set, one held-out set, two rounds,
 * the cost file and the JSON in a temporary directory (the default --out would write under ci/cost-models).
 */
@RequiresKvm
class CalibrateIT {
    private static final String TRAIN = "-b 4M";
    private static final String HELD_OUT = "-b 8M";

    @Test
    void oneTrainingSetWritesTheFittedCostsAndTheirErrors(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("models/host.cost"); // a missing directory is created
        Path json = dir.resolve("cal.json");
        SelftestsJar.Result r = SelftestsJar.run(300, "calibrate", "--train", TRAIN, "--held-out", HELD_OUT, "--rounds", "2",
                "--out", file.toString(), "--json", json.toString());
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).contains("# round 1 kvm " + TRAIN, "# round 2 kvm " + HELD_OUT, "# sensitivities " + TRAIN,
                        "# wrote " + file)
                .containsPattern("\n-b 4M +train +[\\d.]+ ms +[\\d.]+ ms +[+-]\\d+%")
                .containsPattern("\n-b 8M +held-out +[\\d.]+ ms +[\\d.]+ ms +[+-]\\d+%")
                .containsPattern("held-out target \\(total and p50 within 25%\\): (met|NOT met)\n");

        // The cost file: every fitted cost once, in order, a non-negative integer the simulator loads as written.
        Map<String, Long> written = costLines(Files.readAllLines(file));
        assertThat(written.keySet()).as("the cost file's keys").containsExactlyElementsOf(
                CalibrateCommand.FITTED.stream().map(Cost::key).toList());
        assertThat(written.values()).as("the cost file's values").allSatisfy(v -> assertThat(v).isNotNegative());
        // Nearly all of a run's simulated time is guest instructions: the fit cannot leave them free.
        assertThat(written.get(Cost.GUEST_INSN.key())).as("guest_insn").isPositive();
        // One vCPU without userfaultfd never charges these: the fit has nothing to move them by and keeps the defaults.
        for (Cost c : List.of(Cost.HOST_PAGE_COPY, Cost.UFFD_WAKE, Cost.GUEST_INSN_SMP)) {
            assertThat(written.get(c.key())).as("%s, which %s does not exercise", c.key(), TRAIN)
                    .isEqualTo(CostModel.defaults().ns(c));
        }
        CostModel loaded = CostModel.load(file);
        for (Cost c : CalibrateCommand.FITTED) {
            assertThat(loaded.ns(c)).as("%s as CostModel loads it", c.key()).isEqualTo(written.get(c.key()));
        }
        String text = Files.readString(file);
        assertThat(text).contains("--rounds 2", "#   -b 4M", "# Held out (not fitted on): -b 8M.",
                        "# Check: the simulator re-run with this file")
                .containsPattern("#   -b 4M +train +total +[+-]\\d+%   p50 +[+-]\\d+%")
                .containsPattern("#   -b 8M +held-out total +[+-]\\d+%   p50 +[+-]\\d+%")
                .containsPattern("# held-out target \\(total and p50 within 25%\\): (met|NOT met)\n");

        // The JSON: the same costs, and per set the real spread, the simulator's figure and their error.
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("rounds").asInt()).isEqualTo(2);
        assertThat(root.get("policy").asText()).isEqualTo(root.at("/host/sim_policy").asText());
        Map<String, Long> fitted = new LinkedHashMap<>();
        root.get("fitted_costs").fields().forEachRemaining(e -> fitted.put(e.getKey(), e.getValue().asLong()));
        assertThat(fitted).as("fitted_costs in --json").isEqualTo(written);
        JsonNode rows = root.get("rows");
        assertThat(rows).hasSize(2);
        boolean met = true;
        for (int i = 0; i < 2; i++) {
            JsonNode row = rows.get(i);
            assertThat(row.get("options").asText()).isEqualTo(i == 0 ? TRAIN : HELD_OUT);
            assertThat(row.get("role").asText()).isEqualTo(i == 0 ? "train" : "held-out");
            for (String figure : List.of("total", "p50")) {
                double real = row.get("real_median_" + figure + "_ns").asDouble();
                double sim = row.get("sim_" + figure + "_ns").asDouble();
                assertThat(real).as("%s real_median_%s_ns", row.get("options"), figure).isPositive();
                assertThat(sim).as("%s sim_%s_ns", row.get("options"), figure).isPositive();
                assertThat(row.get("real_" + figure + "_min_ns").asDouble()).isPositive().isLessThanOrEqualTo(real);
                assertThat(row.get("real_" + figure + "_max_ns").asDouble()).isGreaterThanOrEqualTo(real);
                double error = row.get(figure + "_error").asDouble();
                assertThat(error).as("%s %s_error = sim / real - 1", row.get("options"), figure)
                        .isCloseTo(sim / real - 1, within(1e-9));
                if (i == 1 && Math.abs(error) > CalibrateCommand.TARGET) {
                    met = false;
                }
            }
        }
        assertThat(root.get("target_met").asBoolean()).as("target_met: both held-out errors within 25%").isEqualTo(met);
    }

    /** The {@code key = ns} lines of a cost file, in order, comments and blank lines left out. */
    private static Map<String, Long> costLines(List<String> lines) {
        Map<String, Long> m = new LinkedHashMap<>();
        List<String> duplicates = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] kv = line.split("=", 2);
            assertThat(kv).as("cost line '%s'", line).hasSize(2);
            if (m.put(kv[0].strip(), Long.parseLong(kv[1].strip())) != null) {
                duplicates.add(kv[0].strip());
            }
        }
        assertThat(duplicates).as("keys written twice").isEmpty();
        return m;
    }
}
