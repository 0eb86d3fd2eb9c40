// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kvmharness.harness.Ksft;
import dev.kvmharness.harness.kvm.KvmBackend;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code compare <test> [test options] [--rounds N] [--json PATH] [--html PATH]}: runs the port N rounds on the
 * simulator and N on /dev/kvm with the same options, alternating (sim first in odd rounds, kvm first in even
 * ones, so drift on the host hits both alike), and reports them side by side (see {@link Comparison}).
 */
@Command(name = "compare", sortOptions = false,
        description = {"Run a port on the simulator and on /dev/kvm with the same options and report them side by side.",
            "Options not listed here are the test's own (e.g. -b 64M -u MISSING)."})
final class CompareCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TEST", description = "The port, e.g. demand_paging_test.")
    String test;

    @Parameters(index = "1..*", paramLabel = "TEST_OPTION", description = "The test's options, passed to every round.")
    List<String> testArgs = new ArrayList<>();

    @Option(names = "--rounds", paramLabel = "N", description = "Rounds per backend. Default: ${DEFAULT-VALUE}.")
    int rounds = 5;

    @Option(names = "--json", paramLabel = "PATH", description = "Write the comparison as JSON.")
    Path json;

    @Option(names = "--html", paramLabel = "PATH", description = "Write a self-contained HTML report (charts inlined).")
    Path html;

    @Option(names = "--policy", paramLabel = "SPEC",
            description = "The sim rounds' policy: " + CommonOptions.POLICY_SPEC + ". Default: ${DEFAULT-VALUE}.")
    String policy = CommonOptions.DEFAULT_POLICY;

    @Option(names = "--cost-model", paramLabel = "FILE", description = "Cost model for the sim rounds.")
    Path costModel;

    @Option(names = "--no-latency", description = "Leave out the port's extra measurements (demand_paging_test: "
            + "--touch-latency), so both backends run exactly the C test's guest.")
    boolean noLatency;

    @Option(names = "--round-timeout", paramLabel = "SECONDS", description = "Per-round timeout. Default: ${DEFAULT-VALUE}.")
    long roundTimeoutSeconds = 600;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** What {@link #run} produced, for callers in-process (tests). */
    Map<String, Object> result;

    @Override
    public Integer call() {
        CommandLine cmd = spec.commandLine();
        if (!Ports.byName(test).isPresent()) {
            return Usage.error(cmd, "compare knows no test '" + test + "' (known: " + String.join(", ", Ports.names()) + ")");
        }
        if (rounds < 1 || rounds > 1000) {
            return Usage.error(cmd, "--rounds must be between 1 and 1000");
        }
        for (String a : testArgs) {
            if (a.equals("--backend") || a.startsWith("--backend=") || a.equals("--seed") || a.startsWith("--seed=")) {
                return Usage.error(cmd, a + " is set by compare itself");
            }
        }
        if (costModel != null && !Files.isReadable(costModel)) {
            return Usage.error(cmd, "cannot read --cost-model " + costModel);
        }
        try {
            Backends.checkPolicy(policy);
            CliFiles.checkWritable("--json", json);
            CliFiles.checkWritable("--html", html);
        } catch (IllegalArgumentException e) {
            return Usage.error(cmd, e.getMessage());
        }
        Optional<String> noKvm = new KvmBackend().unavailableReason();
        if (noKvm.isPresent()) {
            System.out.println("1..0 # SKIP compare needs /dev/kvm: " + noKvm.get());
            return Ksft.SKIP;
        }
        return run(System.out);
    }

    private int run(PrintStream out) {
        List<String> kvmExtra = noLatency ? List.of() : Ports.byName(test).orElseThrow().compareOptions();
        List<String> simExtra = new ArrayList<>(kvmExtra);
        simExtra.add("--policy");
        simExtra.add(policy);
        simExtra.add("--host-cpus"); // the simulated host has as many CPUs as the one compared against
        simExtra.add(Integer.toString(Runtime.getRuntime().availableProcessors()));
        if (costModel != null) {
            simExtra.add("--cost-model");
            simExtra.add(costModel.toString());
        }
        List<Map<String, Object>> sim = new ArrayList<>();
        List<Map<String, Object>> real = new ArrayList<>();
        HostKvm host = HostKvm.detect();
        out.println("# compare " + test + " " + String.join(" ", testArgs) + ": " + rounds
                + " rounds per backend, simulator policy " + policy);
        out.println("# host KVM: " + host.describe());
        Path work;
        try {
            work = Files.createTempDirectory("kvm-compare-");
        } catch (IOException e) {
            System.err.println("error: cannot create a work directory: " + e.getMessage());
            return Ksft.FAIL;
        }
        for (int r = 1; r <= rounds; r++) {
            List<String> order = r % 2 == 1 ? List.of("sim", "kvm") : List.of("kvm", "sim");
            for (String backend : order) {
                CompareRound round = CompareRound.run(test, testArgs, backend, backend.equals("sim") ? simExtra : kvmExtra,
                        work, roundTimeoutSeconds);
                if (round.exitCode() != Ksft.PASS || round.report() == null) {
                    System.err.print(round.output());
                    System.err.printf("error: round %d on %s exited %d%n", r, backend, round.exitCode());
                    return round.exitCode() == Usage.EXIT_USAGE || round.exitCode() == Ksft.SKIP ? round.exitCode() : Ksft.FAIL;
                }
                (backend.equals("sim") ? sim : real).add(round.report());
                out.printf("# round %d %-3s: %s%n", r, backend, CompareText.brief(round.report()));
            }
        }
        CompareRound.deleteWorkDir(work);
        result = Comparison.build(test, testArgs, rounds, host, sim, real);
        result.put("policy", policy);
        result.put("cost_model", costModel == null ? "defaults" : costModel.toString());
        CompareText.print(result, out);
        try {
            if (json != null) {
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), result);
                out.println("# wrote " + json);
            }
            if (html != null) {
                Files.writeString(html.toAbsolutePath(), CompareHtml.render(result));
                out.println("# wrote " + html);
            }
        } catch (IOException e) {
            System.err.println("error: writing the report: " + e.getMessage());
            return Ksft.FAIL;
        }
        return Ksft.PASS;
    }
}
