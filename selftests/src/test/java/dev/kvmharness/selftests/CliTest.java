// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.policy.Policy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line's contract: help lists tests and options; bad input is one usage line and exit 2. */
class CliTest {

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cmd = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        for (CommandLine sub : cmd.getSubcommands().values()) {
            sub.setOut(new PrintWriter(out, true));
            sub.setErr(new PrintWriter(err, true));
        }
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void helpListsEveryTestAndTheCommonOptions() {
        Run r = run("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("demand_paging_test", "set_memory_region_test").contains("--backend").contains("--timeout");
    }

    @Test
    void testHelpListsTheCOptionsAndTheCommonOnes() {
        Run r = run("demand_paging_test", "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("-u=uffd_mode", "-a", "-d=uffd_delay_usec", "-r=readers_per_uffd", "-b=memory",
                "-s=type", "-v=vcpus", "-c=cpu_list", "-o", "-m=vm_mode", "--backend", "--seed", "--json", "--stats");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--no-such-option", "-x", "-b", "-u=SOMETIMES", "-b=lots", "-b=10Q", "-v=0", "-v=abc",
        "-r=0", "-d=-5", "-s=nvram", "-m=3", "-m=8", "-m=16", "--backend=qemu", "-c=99999", "--seed=-1",
        "--seed=0x100000000", "--run-timeout=0", "--policy=ancient", "--policy=current,+no_such_behaviour",
        "--cost-model=/nonexistent/costs.properties", "--oracle=maybe"})
    void badOptionIsOneUsageLineAndExit2(String bad) {
        Run r = run("demand_paging_test", bad);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(2);
        assertThat(r.err().lines().toList().get(0)).startsWith("error: ");
        assertThat(r.err().lines().toList().get(1)).startsWith("usage: selftests.jar demand_paging_test");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-c=0", "-c=abc", "-m=0", "-m=-1", "-s=0", "-s=2x", "-x", "-h", "--maxphyaddr=48",
        "--stride=3", "--stride=4", "--hugepage-size=4K", "-c"})
    void maxGuestMemoryBadOptionIsTheCUsageLineAndExit2(String bad) {
        for (String test : new String[] {"max_guest_memory_test", "mmu_stress_test"}) {
            Run r = run(test, bad);
            assertThat(r.exit()).as(test + " " + bad).isEqualTo(2);
            assertThat(r.err().lines()).hasSize(2);
            assertThat(r.err().lines().toList().get(0)).startsWith("error: ");
            assertThat(r.err().lines().toList().get(1))
                    .isEqualTo("usage: " + test + " [-c nr_vcpus] [-m max_mem_in_gb] [-s slot_size_in_gb] [-H]");
        }
    }

    /**
     * getopt "c:h:m:s:H": -h takes an argument in the C test; with one it prints the usage line. Operands are
     * ignored, as the C test never reads them.
     */
    @Test
    void maxGuestMemoryDashHTakesAnArgumentAndPrintsTheUsage() {
        Run r = run("max_guest_memory_test", "operand", "-h", "x");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("usage: max_guest_memory_test [-c nr_vcpus] [-m max_mem_in_gb] [-s slot_size_in_gb] [-H]\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-3", "ten", "1x", "--no-such-option", "--backend=qemu", "--seed=-1"})
    void setMemoryRegionBadArgumentIsOneUsageLineAndExit2(String bad) {
        Run r = run("set_memory_region_test", bad);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(2);
        assertThat(r.err().lines().toList().get(1)).startsWith("usage: selftests.jar set_memory_region_test");
    }

    @Test
    void setMemoryRegionHelpNamesTheIterationCount() {
        Run r = run("set_memory_region_test", "-h");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("iterations", "Default: 10", "--backend", "--json", "--stats", "--run-timeout");
    }

    @Test
    void theSimulatorIsTheDefaultBackend() {
        Run r = run("demand_paging_test", "-h");
        assertThat(r.out()).contains("Default: sim");
    }

    @Test
    void unknownTestNameIsAUsageError() {
        Run r = run("no_such_test");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("usage: selftests.jar");
    }

    @Test
    void compareRejectsAnUnknownTestWithUsage() {
        Run r = run("compare", "no_such_test", "-b", "64M");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("compare knows no test 'no_such_test'").contains("usage: selftests.jar compare");
    }

    @Test
    void compareRejectsBadRoundsAndOptionsItSetsItself() {
        assertThat(run("compare", "demand_paging_test", "--rounds", "0").exit()).isEqualTo(2);
        Run r = run("compare", "demand_paging_test", "-b", "64M", "--backend", "kvm");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--backend is set by compare itself");
    }

    /**
     * The help texts name the policies from a constant (annotation values must be); a policy the simulator gains
     * must be added to it, or this fails.
     */
    @Test
    void thePolicyNamesInTheHelpAreTheSimulatorsOwn() {
        assertThat(CommonOptions.POLICY_NAMES)
                .as("CommonOptions.POLICY_NAMES, which every --policy help lists, must be Policy.describeNames()")
                .isEqualTo(Policy.describeNames());
    }

    /** Every port's --help, compare's and the suite runner's list the policies by version with their aliases. */
    @Test
    void everyPolicyHelpListsThePolicies() {
        List<List<String>> commands = new ArrayList<>();
        for (String test : Main.TESTS) {
            commands.add(List.of(test, "--help"));
        }
        commands.add(List.of("compare", "--help"));
        commands.add(List.of("--help"));
        for (List<String> argv : commands) {
            Run r = run(argv.toArray(String[]::new));
            assertThat(r.exit()).as(String.join(" ", argv)).isZero();
            // picocli wraps the description: a name and its alias may sit on two lines
            String help = r.out().replaceAll("\\s+", " ");
            assertThat(help).as("%s lists the policies; got:%n%s", String.join(" ", argv), r.out())
                    .contains("--policy=SPEC").contains(Policy.describeNames());
        }
    }

    @Test
    void calibrateRejectsBadRounds() {
        Run r = run("calibrate", "--rounds", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--rounds must be between 1 and 100").contains("usage: selftests.jar calibrate");
    }
}
