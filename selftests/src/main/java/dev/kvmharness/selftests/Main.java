// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar selftests.jar <test-name> [options]} runs one port; with no test name every port runs in
 * turn, each in its own JVM, reported as TAP the way the kselftest runner reports a directory.
 */
@Command(name = "selftests.jar", sortOptions = false,
        subcommands = {CompareCommand.class, CalibrateCommand.class, ConformanceCommand.class},
        description = {"KVM selftests ported to Java, on real KVM (/dev/kvm) or the TDP MMU simulator.",
            "With no test name, runs every test (kselftest runner style, TAP output)."})
public final class Main implements Callable<Integer> {

    /** Every port, by its C name, in the order the suite runs them: {@link Ports}, the registry. */
    public static final List<String> TESTS = Ports.names();

    @Option(names = "--backend", paramLabel = "kvm|sim", description = "Backend for every test. Default: ${DEFAULT-VALUE}.")
    String backend = Backends.DEFAULT;

    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "Per-test timeout, as tools/testing/selftests/kvm/settings sets it. Default: ${DEFAULT-VALUE}.")
    int timeoutSeconds = SuiteRunner.DEFAULT_TIMEOUT_SECONDS;

    @Option(names = "--shard", paramLabel = "i/n",
            description = "Run only shard i of n: every n-th item of the suite from the i-th, so n runners share it;"
                    + " 'indexed/n' takes i from JOB_COMPLETION_INDEX + 1 (an indexed Kubernetes Job). Default: all.")
    String shard = "1/1";

    @Option(names = "--seeds", paramLabel = "A..B",
            description = "Simulator only: run every test once per seed A..B (a sweep; --shard splits it too).")
    String seeds;

    @Option(names = "--policy", paramLabel = "SPEC",
            description = "Simulator only: run every test with --policy SPEC, " + CommonOptions.POLICY_SPEC
                    + ". Default: the tests' own, " + CommonOptions.DEFAULT_POLICY + ".")
    String policy;

    @Option(names = "--list", description = "Print the items this run (and shard) would run, one per line, and exit.")
    boolean list;

    @Option(names = "--ports", description = "Print the registry of ports (C targets, suite arguments, compare options,"
            + " matrix rows) as JSON, for the scripts, and exit.")
    boolean ports;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "List the tests and options, and exit.")
    boolean help;

    @picocli.CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (ports) {
            System.out.println(Ports.toJson());
            return 0;
        }
        List<SuiteItem> items;
        try {
            Backends.check(backend);
            if (seeds != null && !"sim".equals(backend)) {
                throw new IllegalArgumentException("--seeds sweeps the simulator's seed: it needs --backend sim");
            }
            if (policy != null) {
                if (!"sim".equals(backend)) {
                    throw new IllegalArgumentException("--policy is for the simulator: it needs --backend sim");
                }
                Backends.checkPolicy(policy);
            }
            items = Shard.parse(shard).select(SuiteItem.of(TESTS, seeds == null ? List.of() : SuiteItem.seedRange(seeds)));
        } catch (IllegalArgumentException e) {
            return Usage.error(spec.commandLine(), e.getMessage());
        }
        if (list) {
            items.forEach(it -> System.out.println(it.title()));
            return 0;
        }
        return new SuiteRunner(backend, policy, timeoutSeconds, System.out).run(items);
    }

    /** The CLI with the project's error handling: bad input gives one usage line and exit 2. */
    static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new Main());
        // The ports come first, in the registry's order, so --help lists them before compare and calibrate.
        Map<String, CommandLine> others = new LinkedHashMap<>(cmd.getSubcommands());
        others.keySet().forEach(cmd.getCommandSpec()::removeSubcommand);
        for (Ports.Entry p : Ports.ALL) {
            cmd.addSubcommand(p.name(), p.command().get());
        }
        others.forEach(cmd::addSubcommand);
        // compare passes the test's own options through: any option it does not know is one of them.
        cmd.getSubcommands().get("compare").setUnmatchedOptionsArePositionalParams(true);
        cmd.setParameterExceptionHandler((ex, args) -> Usage.error(ex.getCommandLine(), message(ex)));
        return cmd;
    }

    /**
     * A word where a test name goes is a mistyped test, not picocli's "Unmatched argument at index 0": name it,
     * list the tests, and suggest the closest where picocli finds one.
     */
    static String message(CommandLine.ParameterException ex) {
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.isUnknownOption()
                && u.getCommandLine().getCommandSpec().userObject() instanceof Main && !u.getUnmatched().isEmpty()) {
            List<String> others = u.getCommandLine().getSubcommands().keySet().stream().filter(n -> !TESTS.contains(n)).toList();
            String typed = u.getUnmatched().get(0);
            // picocli's bigram similarity also offers names that merely share a pair of letters ("foo" and
            // "conformance"); a typo keeps at least the first half of the name
            List<String> closest = u.getSuggestions().stream().filter(n -> commonPrefix(n, typed) * 2 >= typed.length()).toList();
            return "unknown test '" + typed + "'"
                    + (closest.isEmpty() ? "" : " (did you mean " + closest.get(0) + "?)")
                    + "; the tests are: " + String.join(", ", TESTS) + "; the other commands: " + String.join(", ", others);
        }
        return ex.getMessage();
    }

    private static int commonPrefix(String a, String b) {
        int n = 0;
        while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
            n++;
        }
        return n;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
