// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --oracle off}, for benchmark runs: the oracle costs host time, never virtual time, so the run's results are
 * the same; the JSON says the oracle was off instead of giving a violation count nobody checked.
 */
class OracleSwitchTest {
    @TempDir
    Path dir;

    @SuppressWarnings("unchecked")
    private Map<String, Object> run(String... extra) throws IOException {
        Path json = dir.resolve("r" + extra.length + ".json");
        String[] args = new String[6 + extra.length];
        String[] base = {"demand_paging_test", "-v", "2", "-b", "4M", "--json=" + json};
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        assertThat(Main.commandLine().execute(args)).isZero();
        return new ObjectMapper().readValue(json.toFile(), Map.class);
    }

    @Test
    @SuppressWarnings("unchecked")
    void offChangesNoResultAndTheJsonSaysSo() throws IOException {
        Map<String, Object> on = run();
        Map<String, Object> off = run("--oracle", "off");
        Map<String, Object> simOn = (Map<String, Object>) on.get("backend_report");
        Map<String, Object> simOff = (Map<String, Object>) off.get("backend_report");
        assertThat(simOn).containsEntry("oracle_violations", 0).doesNotContainKey("oracle");
        assertThat(simOff).containsEntry("oracle", "off").doesNotContainKey("oracle_violations");
        simOn.remove("oracle_violations");
        simOff.remove("oracle");
        assertThat(off).as("everything but the oracle's own field").isEqualTo(on);
    }
}
