// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * access_tracking_perf_test's command line, run in process: the C options ("hm:b:v:os:") with their defaults, and
 * bad values as one error line plus the C usage line, exit 2, before anything runs.
 */
class AccessTrackingPerfCliTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "-v 0|Number of vCPUs",
        "-v abc|Number of vCPUs",
        "-b 0|-b 0 is not a positive multiple of the 4K guest page size",
        "-b 4097|-b 4097 is not a positive multiple of the 4K guest page size",
        "-b 10Q|-b '10Q'",
        "-s nvram|nvram",
        "-m 3|3",
        "-s anonymous_hugetlb -b 1M|-b 1M is not a multiple of the 2M huge page size of -s anonymous_hugetlb",
        "-v 3 -s anonymous_hugetlb_2mb -b 1M|-v 3 x -b 1M is not a multiple of the 2M huge page size",
        "-v 5000 -b 4K|Invalid number of vcpus 5000, must be between 1 and",
        "-v 4096 -b 1T|is more guest memory than the sim backend's guest can address",
        "-x|Unknown option: '-x'",
        "-b|Missing required parameter for option '-b'",
        "--backend qemu|qemu",
        "--seed -1|--seed must be in 0..0xffffffff",
    })
    void badInputIsOneErrorLineAndTheCUsageLineExit2(String line, String problem) {
        CliRun r = CliRun.of("access_tracking_perf_test", line).assertUsageError(
                List.of("usage: access_tracking_perf_test [-h] [-m mode] [-b vcpu_bytes] [-v vcpus] [-o]  [-s mem_type]"), problem);
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void theCDefaultsAndWhatTheOptionsResolveTo() {
        AccessTrackingPerfTest t = new AccessTrackingPerfTest();
        new CommandLine(t).parseArgs();
        AccessTrackingPerfTest.Params p = t.parse();
        assertThat(p.vcpuMemoryBytes()).as("DEFAULT_PER_VCPU_MEM_SIZE").isEqualTo(1L << 30);
        assertThat(p.nrVcpus()).isEqualTo(1);
        assertThat(p.src().cliName()).as("DEFAULT_VM_MEM_SRC").isEqualTo("anonymous");
        assertThat(p.overlap()).isFalse();
        assertThat(p.modes()).hasSize(1);

        t = new AccessTrackingPerfTest();
        new CommandLine(t).parseArgs("-o", "-v", "4", "-b", "64M", "-s", "shmem", "-m", "9", "-m", "9");
        p = t.parse();
        assertThat(p.overlap()).isTrue();
        assertThat(p.nrVcpus()).isEqualTo(4);
        assertThat(p.vcpuMemoryBytes()).isEqualTo(64L << 20);
        assertThat(p.src().cliName()).isEqualTo("shmem");
        assertThat(p.modes()).as("a mode given twice runs once").hasSize(1);
    }

    @Test
    void helpListsTheCOptions() {
        CliRun r = CliRun.of("access_tracking_perf_test", "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: access_tracking_perf_test [-h] [-m mode] [-b vcpu_bytes] [-v vcpus] [-o]",
                "-b=vcpu_bytes", "-v=vcpus", "-o", "-s=mem_type", "-m=mode", "--backend", "--seed", "--json", "--stats");
    }

    /** The phase line of run_iteration(): pr_info("%-30s: %ld.%09lds\n"). */
    @Test
    void thePhaseLineIsTheCFormat() {
        assertThat(AccessTrackingPerfTest.phaseLine("Populating memory", 36_210_128L))
                .isEqualTo("Populating memory             : 0.036210128s\n");
        assertThat(AccessTrackingPerfTest.phaseLine("Reading from populated memory", 12_000_000_007L))
                .isEqualTo("Reading from populated memory : 12.000000007s\n");
        assertThat(AccessTrackingPerfTest.Phase.values()).extracting(ph -> ph.description).containsExactly(
                "Populating memory", "Writing to populated memory", "Reading from populated memory", "Mark memory idle",
                "Writing to idle memory", "Mark memory idle", "Reading from idle memory");
        assertThat(AccessTrackingPerfTest.ucallNumber(dev.kvmharness.harness.Ucall.Kind.SYNC)).as("UCALL_SYNC").isEqualTo(1);
        assertThat(AccessTrackingPerfTest.ucallNumber(dev.kvmharness.harness.Ucall.Kind.DONE)).as("UCALL_DONE").isEqualTo(4);
    }
}
