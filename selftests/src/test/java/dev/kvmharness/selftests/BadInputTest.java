// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.harness.sim.SimOptions;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.FlushSite;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.Cost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * Bad input a new user ran into: each is a usage error (exit 2, the error and one usage line) that names the
 * problem, given before any work is done: nothing on stdout, so no "Random seed" and no test output.
 */
class BadInputTest {

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** Exit 2, "error: ..." naming every {@code problem}, the usage line, and nothing run. */
    private static void assertUsageError(CliRun r, String... problem) {
        r.assertUsageError(List.of(), problem);
    }

    private static String[] args(String line) {
        return line.split(" ");
    }

    // ------------------------------------------------------------------ sizes and counts

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            -b 0           | -b 0 is not a positive multiple of the 4K guest page size
            -b 3K          | -b 3K is not a positive multiple of the 4K guest page size
            -b 4097        | -b 4097 is not a positive multiple of the 4K guest page size
            -b 12Q         | -b '12Q': Unknown size letter q
            -b M           | -b 'M': Need at least one digit
            -b 99999999999T | -b '99999999999T': Overflow scaling size!
            -v 100000      | Invalid number of vcpus 100000, must be between 1 and 4096 (KVM_CAP_MAX_VCPUS of the sim backend)
            -v 4097 -b 4K  | must be between 1 and 4096
            -v abc         | Number of vCPUs: strtol("abc") didn't find a valid integer.
            -b 200T        | -v 1 x -b 200T is more guest memory than the sim backend's guest can address: at most 131069G
            -v 4096 -b 64G | -v 4096 x -b 64G is more guest memory than the sim backend's guest can address
            -v 4096 -b 0x10000000000000 | -v 4096 x -b 4096T overflows 64 bits
            -b 1M -s anonymous_hugetlb_2mb | -b 1M is not a multiple of the 2M huge page size of -s anonymous_hugetlb_2mb
            -b 2M -s anonymous_hugetlb_1gb | -b 2M is not a multiple of the 1G huge page size of -s anonymous_hugetlb_1gb
            -v 2 -b 1M -s anonymous_hugetlb_2mb -u MISSING | -b 1M is not a multiple of the 2M huge page size
            -v 3 -b 2M -s anonymous_hugetlb_1gb -u MISSING -a | -v 3 x -b 2M is not a multiple of the 1G huge page size
            """)
    void demandPagingSizesAndCountsAreUsageErrors(String line, String problem) {
        List<String> a = new ArrayList<>(List.of("demand_paging_test"));
        a.addAll(List.of(args(line)));
        assertUsageError(run(a.toArray(String[]::new)), problem);
    }

    /** The limits themselves are accepted: the checks reject what the C test cannot run, nothing more. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            -b 4K
            -v 4096 -b 4K
            -b 131069G
            -v 2 -b 1M -s anonymous_hugetlb_2mb
            -v 2 -b 1M -s anonymous_hugetlb_2mb -u MISSING -a
            -b 1G -s anonymous_hugetlb_1gb -u MISSING
            """)
    void demandPagingAcceptsTheLimits(String line) {
        DemandPagingTest port = new DemandPagingTest();
        new CommandLine(port).parseArgs(args(line));
        assertThatCode(() -> {
            port.validate();
            port.validate(new SimBackend(SimOptions.defaults(1)));
        }).doesNotThrowAnyException();
    }

    @Test
    void demandPagingAtTheAddressLimitPlusOnePageIsRejected() {
        DemandPagingTest port = new DemandPagingTest();
        new CommandLine(port).parseArgs("-b", Long.toString((131069L << 30) + 4096));
        port.validate();
        assertThatThrownBy(() -> port.validate(new SimBackend(SimOptions.defaults(1))))
                .hasMessageContaining("more guest memory than the sim backend's guest can address");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            -c 5000        | -c 5000 is more vCPUs than the sim backend allows: at most 4096 (KVM_CAP_MAX_VCPUS)
            -s 100000      | -s 100000 is too large for the sim backend: four slots must fit below the top of guest physical memory
            -s 65536       | so -s is at most 65535
            -m 2147483647  | -m 2147483647 is more than an x86 guest can address: at most 4194304
            -c 99999999999 | Number of vCPUs: 99999999999 not in range
            """)
    void maxGuestMemorySizesAndCountsAreUsageErrors(String line, String problem) {
        for (String test : new String[] {"max_guest_memory_test", "mmu_stress_test"}) {
            List<String> a = new ArrayList<>(List.of(test));
            a.addAll(List.of(args(line)));
            CliRun r = run(a.toArray(String[]::new));
            assertUsageError(r, problem);
            assertThat(r.err()).contains("usage: " + test + " [-c nr_vcpus]");
        }
    }

    @Test
    void maxGuestMemoryAcceptsTheLimits() {
        MaxGuestMemoryTest port = new MaxGuestMemoryTest();
        new CommandLine(port).parseArgs("-c", "4096", "-s", "65535", "-m", "4194304");
        assertThatCode(() -> {
            port.validate();
            port.validate(new SimBackend(SimOptions.defaults(1)));
        }).doesNotThrowAnyException();
    }

    @Test
    void setMemoryRegionIterationsOutOfRangeNamesTheArgument() {
        assertUsageError(run("set_memory_region_test", "99999999999"), "Number of iterations: 99999999999 not in range");
    }

    @Test
    void hostCpusOutOfRangeIsAUsageError() {
        assertUsageError(run("demand_paging_test", "-b", "4M", "--host-cpus", "-1"),
                "--host-cpus must be between 1 and 8192 (0: one per thread), not -1");
    }

    // ------------------------------------------------------------------ output paths

    @Test
    void jsonIntoAMissingDirectoryIsRejectedBeforeTheRun() {
        assertUsageError(run("demand_paging_test", "-b", "4M", "--json", "/nonexistent-dir/result.json"),
                "cannot write --json /nonexistent-dir/result.json: directory /nonexistent-dir does not exist");
    }

    @Test
    void jsonThatIsADirectoryOrUnderAFileIsRejected(@TempDir Path dir) throws IOException {
        assertUsageError(run("set_memory_region_test", "--json", dir.toString()), "cannot write --json " + dir + ": it is a directory");
        Path file = Files.writeString(dir.resolve("plain"), "x");
        assertUsageError(run("max_guest_memory_test", "--json", file.resolve("r.json").toString()), file + " is not a directory");
    }

    @Test
    void conformanceChecksItsArgumentsFirst(@TempDir Path dir) throws IOException {
        assertUsageError(run("conformance", "--steps", "0"), "--steps and --history-steps must be at least 1");
        assertUsageError(run("conformance", "--policy", "6.99"), "unknown policy '6.99'");
        assertUsageError(run("conformance", "--json", "/nonexistent-dir/c.json"), "cannot write --json /nonexistent-dir/c.json");
        assertUsageError(run("conformance", "--replay", dir.resolve("missing.json").toString()), "cannot read --replay");
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"ops\": [{\"op\": \"Reboot\", \"args\": []}]}");
        assertUsageError(run("conformance", "--replay", bad.toString()), "unknown step 'Reboot'");
    }

    @Test
    void compareAndCalibrateCheckTheirOutputPathsFirst(@TempDir Path dir) throws IOException {
        assertUsageError(run("compare", "demand_paging_test", "-b", "4M", "--json", "/nonexistent-dir/c.json"),
                "cannot write --json /nonexistent-dir/c.json");
        assertUsageError(run("compare", "demand_paging_test", "-b", "4M", "--html", "/nonexistent-dir/c.html"),
                "cannot write --html /nonexistent-dir/c.html");
        assertUsageError(run("calibrate", "--train", "-b 4M", "--json", "/nonexistent-dir/k.json"),
                "cannot write --json /nonexistent-dir/k.json");
        // --out's missing directories are created; a file in the way is not.
        Path file = Files.writeString(dir.resolve("plain"), "x");
        assertUsageError(run("calibrate", "--train", "-b 4M", "--out", file.resolve("a/b.cost").toString()),
                "cannot write --out " + file.resolve("a/b.cost") + ": cannot create directories in " + file);
    }

    // ------------------------------------------------------------------ --cost-model and --policy

    @Test
    void aCostModelThatCannotBeReadSaysWhy(@TempDir Path dir) {
        assertUsageError(run("demand_paging_test", "--cost-model", "/nonexistent/costs.properties"),
                "cannot read --cost-model /nonexistent/costs.properties: No such file or directory");
        assertUsageError(run("demand_paging_test", "--cost-model", dir.toString()),
                "cannot read --cost-model " + dir + ": Is a directory");
    }

    @Test
    void aMalformedCostModelLineNamesTheLineAndTheValidKeys(@TempDir Path dir) throws IOException {
        Path unknown = Files.writeString(dir.resolve("unknown.cost"), "# costs\nipi = 900\nbogus = 3\n");
        String keys = String.join(", ", Arrays.stream(Cost.values()).map(Cost::key).toList());
        assertUsageError(run("demand_paging_test", "--cost-model", unknown.toString()),
                unknown + ":3: unknown key 'bogus' (known keys: " + keys + ")");
        Path notANumber = Files.writeString(dir.resolve("nan.cost"), "ipi = lots\n");
        assertUsageError(run("demand_paging_test", "--cost-model", notANumber.toString()),
                notANumber + ":1: value 'lots' for 'ipi' is not a non-negative integer (ns)");
    }

    @Test
    void anUnknownPolicyBehaviourListsTheValidNames() {
        String behaviours = String.join(", ", Arrays.stream(Behaviour.values()).map(Behaviour::key).toList());
        assertUsageError(run("demand_paging_test", "--policy", "legacy,+nonsense"),
                "unknown behaviour 'nonsense' in policy 'legacy,+nonsense'", behaviours, Policy.describeNames());
        String sites = String.join(", ", Arrays.stream(FlushSite.values()).map(f -> f.name().toLowerCase(Locale.ROOT)).toList());
        assertUsageError(run("demand_paging_test", "--policy", "current,!nonsense"), "unknown flush site 'nonsense'", sites);
    }

    /** An unknown base policy lists the policies by kernel version, with the aliases, wherever --policy is taken. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            demand_paging_test --policy 6.14         | 6.14
            set_memory_region_test --policy ancient  | ancient
            --policy 6.14                            | 6.14
            --backend sim --policy 6.14,+lockless_aging | 6.14
            compare demand_paging_test -b 4M --policy 6.14 | 6.14
            """)
    void anUnknownPolicyListsThePolicies(String line, String base) {
        assertUsageError(run(args(line)), "unknown policy '" + base + "' (expected " + Policy.describeNames() + ",");
    }

    /**
     * The suite's simulator-only options with --backend kvm: --policy (which it passes to every test on the
     * simulator) and --seeds are usage errors, not silently dropped.
     */
    @Test
    void theSuitesSimulatorOptionsNeedTheSimulator() {
        assertUsageError(run("--backend", "kvm", "--policy", "6.15"), "--policy is for the simulator: it needs --backend sim");
        assertUsageError(run("--backend", "kvm", "--policy", Policy.NEWEST, "--list"), "--policy is for the simulator");
        assertUsageError(run("--backend", "kvm", "--seeds", "1..2"), "--seeds sweeps the simulator's seed: it needs --backend sim");
    }

    // ------------------------------------------------------------------ test names

    @Test
    void anUnknownTestNameListsTheTests() {
        CliRun r = run("foo");
        assertUsageError(r, "unknown test 'foo'; the tests are: " + String.join(", ", Main.TESTS),
                "the other commands: compare, calibrate, conformance");
        assertThat(r.err()).doesNotContain("Unmatched argument").doesNotContain("did you mean");
    }

    @Test
    void aMistypedTestNameGetsTheClosestSuggested() {
        assertUsageError(run("demand_paging_tst"), "unknown test 'demand_paging_tst' (did you mean demand_paging_test?)");
        assertUsageError(run("--backend", "sim", "mmu_stres"), "unknown test 'mmu_stres' (did you mean mmu_stress_test?)");
    }

    @Test
    void anUnknownOptionIsStillNamedAsAnOption() {
        assertUsageError(run("--no-such-option"), "Unknown option: '--no-such-option'");
        assertUsageError(run("demand_paging_test", "stray"), "Unmatched argument at index 1: 'stray'");
    }
}
