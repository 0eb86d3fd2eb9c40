// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * memslot_modification_stress_test's command line in-process: the C options, and bad input as a usage error
 * (exit 2, the error, the C test's two usage lines) before anything runs.
 */
class MemslotModificationStressCliTest {
    static final List<String> USAGE = List.of("usage: memslot_modification_stress_test [-h] [-m mode] [-d delay_usec] [-q]",
            "          [-b memory] [-v vcpus] [-o] [-i iterations]");

    @Test
    void helpListsEveryCOptionAndTheCommonOnes() {
        CliRun r = CliRun.of("memslot_modification_stress_test", "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("Usage: memslot_modification_stress_test [-h] [-m mode] [-d delay_usec] [-q]")
                .contains("-b=memory", "-d=delay_usec", "-i=iterations", "-m=mode", "-o ", "-q ", "-v=vcpus",
                        "Default: 10", "--backend", "--seed", "--json", "--stats");
    }

    @Test
    void optionsAsUnderstood() {
        MemslotModificationStressTest t = new MemslotModificationStressTest();
        new CommandLine(t).parseArgs("-d", "10", "-q", "-b", "16M", "-v", "3", "-o", "-i", "20", "-m", "9");
        t.validate();
        assertThat(t.options()).containsEntry("delay_us", 10L).containsEntry("iterations", 20)
                .containsEntry("partition_vcpu_memory_access", false).containsEntry("disable_slot_zap_quirk", true)
                .containsEntry("vcpus", 3).containsEntry("guest_percpu_mem_size", 16L << 20);
        MemslotModificationStressTest d = new MemslotModificationStressTest();
        new CommandLine(d).parseArgs();
        d.validate();
        assertThat(d.options()).containsEntry("delay_us", 0L).containsEntry("iterations", 10)
                .containsEntry("partition_vcpu_memory_access", true).containsEntry("disable_slot_zap_quirk", false)
                .containsEntry("vcpus", 1).containsEntry("guest_percpu_mem_size", 1L << 30);
    }

    /** Each bad value, and the part of the error that must name it. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "-i 0|Number of iterations must be greater than 0",
        "-i ten|Number of iterations: strtol(\"ten\")",
        "-d -1|Delay must be non-negative",
        "-d soon|Delay: strtol(\"soon\")",
        "-v 0|Number of vCPUs must be greater than 0",
        "-v 100000|Invalid number of vcpus 100000, must be between 1 and",
        "-b 10Q|-b '10Q'",
        "-b 6000|not a positive multiple of the 4K guest page size",
        "-m 3|Guest mode ID 3 not supported",
        "-x|Unknown option: '-x'",
        "--seed -1|--seed must be in 0..0xffffffff",
    })
    void badInputIsTheErrorAndTheCUsageLinesExit2(String args, String named) {
        CliRun.of("memslot_modification_stress_test", args).assertUsageError(USAGE, named);
    }
}
