// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The registry of ports is what the CLI, the suite, compare and the scripts see. */
class PortsTest {

    @Test
    void everyRegisteredPortIsASubcommandUnderItsCNameAndTheTestsComeFirst() {
        CommandLine cmd = Main.commandLine();
        List<String> subcommands = new ArrayList<>(cmd.getSubcommands().keySet());
        List<String> expected = new ArrayList<>(Ports.names());
        expected.addAll(List.of("compare", "calibrate", "conformance"));
        assertThat(subcommands).as("selftests.jar's subcommands: the registry's ports, in order, then the tools")
                .containsExactlyElementsOf(expected);
        for (Ports.Entry p : Ports.ALL) {
            Object command = cmd.getSubcommands().get(p.name()).getCommandSpec().userObject();
            assertThat(command).as(p.name()).isInstanceOf(Port.class);
            assertThat(((Port) command).name()).as("the port's own name").isEqualTo(p.name());
            assertThat(cmd.getSubcommands().get(p.name()).getCommandSpec().name())
                    .as("the @Command name of " + p.name()).isEqualTo(p.name());
        }
    }

    @Test
    void theOptionsTheRegistryPassesAreOptionsThePortAccepts() {
        for (Ports.Entry p : Ports.ALL) {
            List<List<String>> uses = new ArrayList<>();
            uses.add(p.suiteArgs());
            uses.add(p.compareOptions());
            p.matrix().values().forEach(o -> uses.add(List.of(o.split(" "))));
            for (List<String> args : uses) {
                CommandLine port = new CommandLine(p.command().get());
                port.parseArgs(args.toArray(String[]::new));
                assertThat(((Port) port.getCommandSpec().userObject()).name()).isEqualTo(p.name());
            }
        }
    }

    @Test
    void theScriptsReadTheSameRegistryAsJson() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Ports.toJson());
        List<String> names = new ArrayList<>();
        json.forEach(n -> names.add(n.get("name").asText()));
        assertThat(names).containsExactlyElementsOf(Main.TESTS);
        assertThat(json.get(0).get("compare_options").get(0).asText()).isEqualTo("--touch-latency");
        assertThat(json.get(2).get("c_target").isNull()).as("mmu_stress_test is not in 6.12").isTrue();
        assertThat(json.get(1).get("suite_args").toString()).isEqualTo("[\"-m\",\"8\"]");
        assertThat(json.get(0).get("matrix").get("demand_paging_test_uffd").asText()).isEqualTo("-u MISSING -b 16M");
    }
}
