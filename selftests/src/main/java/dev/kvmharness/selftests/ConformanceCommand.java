// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kvmharness.harness.Ksft;
import dev.kvmharness.harness.kvm.KvmBackend;
import dev.kvmharness.selftests.conformance.Conformance;
import dev.kvmharness.selftests.conformance.History;
import dev.kvmharness.selftests.conformance.Op;
import dev.kvmharness.selftests.conformance.Quirk;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code conformance}: random histories of memslot, guest, dirty-log and host-memory steps, each run on the
 * simulator and on /dev/kvm, compared step by step. A divergence a host quirk explains is counted; any other is
 * minimized and printed with a replay file and a JUnit test body.
 */
@Command(name = "conformance", sortOptions = false,
        description = "Run random histories on the simulator and on /dev/kvm and report where what userspace sees differs.")
final class ConformanceCommand implements Callable<Integer> {
    @Option(names = "--steps", paramLabel = "N", description = "Steps to run in all. Default: ${DEFAULT-VALUE}.")
    long steps = 2000;

    @Option(names = "--seed", paramLabel = "S", description = "The first history's seed; the next ones count up. Default: ${DEFAULT-VALUE}.")
    long seed = 1;

    @Option(names = "--history-steps", paramLabel = "N", description = "Steps per history. Default: ${DEFAULT-VALUE}.")
    int historySteps = 40;

    @Option(names = "--policy", paramLabel = "SPEC",
            description = "The simulator's policy: " + CommonOptions.POLICY_SPEC + ". Default: ${DEFAULT-VALUE}.")
    String policy = CommonOptions.DEFAULT_POLICY;

    @Option(names = "--replay", paramLabel = "FILE", description = "Run the history in FILE (written by an earlier divergence) on both backends and print each step.")
    Path replay;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write the replay files of divergences. Default: ${DEFAULT-VALUE}.")
    Path out = Path.of(".");

    @Option(names = "--json", paramLabel = "PATH", description = "Write the report as JSON to PATH.")
    Path json;

    @Option(names = "--html", paramLabel = "PATH", description = "Write the report as a self-contained HTML page to PATH.")
    Path html;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @picocli.CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final int MAX_MINIMIZED = 8;

    @Override
    public Integer call() {
        CommandLine cmd = spec.commandLine();
        if (steps < 1 || historySteps < 1) {
            return Usage.error(cmd, "--steps and --history-steps must be at least 1");
        }
        History replayed;
        try {
            Backends.checkPolicy(policy);
            CliFiles.checkWritable("--json", json);
            CliFiles.checkWritable("--html", html);
            replayed = replay == null ? null : History.read(replay);
        } catch (IllegalArgumentException e) {
            return Usage.error(cmd, e.getMessage());
        } catch (IOException e) {
            return Usage.error(cmd, "cannot read --replay " + replay + ": " + CliFiles.reason(e));
        }
        Optional<String> noKvm = new KvmBackend().unavailableReason();
        if (noKvm.isPresent()) {
            System.out.println("1..0 # SKIP conformance needs /dev/kvm: " + noKvm.get());
            return Ksft.SKIP;
        }
        List<Quirk> quirks = Quirk.ofThisHost();
        Conformance c = Conformance.simAgainstKvm(policy);
        PrintStream o = System.out;
        o.printf(Locale.ROOT, "# conformance: the simulator (policy %s) against /dev/kvm (%s)%n", policy, HostKvm.detect().describe());
        for (Quirk q : quirks) {
            o.printf(Locale.ROOT, "# host quirk %s: %s%n", q.name(), q.description());
        }
        if (replayed != null) {
            return replay(c, replayed, o);
        }
        Conformance.Report r = c.run(seed, steps, historySteps, MAX_MINIMIZED);
        o.printf(Locale.ROOT, "# %d histories from seed %d, %d steps:", r.histories(), seed, r.steps());
        r.stepsByKind().forEach((k, n) -> o.printf(Locale.ROOT, " %s %d", k, n));
        o.println();
        for (Quirk q : quirks) {
            o.printf(Locale.ROOT, "# quirk %s hit %d times%n", q.name(), r.quirkHits().getOrDefault(q, 0L));
        }
        o.print("# simulator paths reached (its KVM stats, summed):");
        c.simCoverage().forEach((k, n) -> {
            if (n != 0) {
                o.printf(Locale.ROOT, " %s %d", k, n);
            }
        });
        o.println();
        int i = 0;
        for (Conformance.Divergence d : r.minimized()) {
            printDivergence(d, o, ++i);
        }
        r.bySignature().forEach((sig, n) -> o.printf(Locale.ROOT, "# %5d x %s%n", n, sig));
        o.printf(Locale.ROOT, "# %d unexplained divergence%s%n", r.divergences().size(), r.divergences().size() == 1 ? "" : "s");
        if (json != null) {
            writeJson(r, quirks, c.simCoverage());
        }
        if (html != null) {
            writeHtml(r, quirks, c.simCoverage());
        }
        return r.divergences().isEmpty() ? Ksft.PASS : Ksft.FAIL;
    }

    private int replay(Conformance c, History h, PrintStream o) {
        Conformance.Divergence d = c.check(h);
        o.printf(Locale.ROOT, "# replay of %s: %d steps, seed %d, manual protect %s%n", replay, h.ops().size(), h.seed(), h.manualProtect());
        if (d == null) {
            o.println("# no divergence");
            return Ksft.PASS;
        }
        table(h, d, o);
        o.printf(Locale.ROOT, "# %s at step %d%n", d.quirk() == null ? "divergence" : "quirk " + d.quirk().name(), d.step());
        return d.quirk() == null ? Ksft.FAIL : Ksft.PASS;
    }

    private void printDivergence(Conformance.Divergence d, PrintStream o, int n) {
        History h = d.prefix();
        o.printf(Locale.ROOT, "# divergence %d: history seed %d, %d steps after minimizing, differs at step %d%n", n, h.seed(),
                h.ops().size(), d.step());
        table(h, d, o);
        Path file = out.resolve("conformance-divergence-" + h.seed() + ".json");
        try {
            Files.createDirectories(out);
            h.write(file);
            o.printf(Locale.ROOT, "# replay: java -jar selftests.jar conformance --replay %s%n", file);
        } catch (IOException e) {
            o.printf(Locale.ROOT, "# could not write %s: %s%n", file, CliFiles.reason(e));
        }
        o.println("# as a JUnit test (selftests' test classpath):");
        o.println("#   @Test");
        o.printf(Locale.ROOT, "#   void divergence%d() {%n", h.seed());
        o.printf(Locale.ROOT, "#       History h = new History(%dL, %s, List.of(%n", h.seed(), h.manualProtect());
        for (int i = 0; i < h.ops().size(); i++) {
            o.printf(Locale.ROOT, "#               %s%s%n", h.ops().get(i).java(), i + 1 < h.ops().size() ? "," : "));");
        }
        o.printf(Locale.ROOT, "#       assertThat(Conformance.simAgainstKvm(\"%s\").check(h)).isNull();%n", policy);
        o.println("#   }");
    }

    /** Each step with both sides' observations; the diverging one marked. */
    private static void table(History h, Conformance.Divergence d, PrintStream o) {
        List<String> sim = d.simObservations();
        List<String> kvm = d.kvmObservations();
        for (int i = 0; i < h.ops().size() && (i < sim.size() || i < kvm.size()); i++) {
            Op op = h.ops().get(i);
            String a = i < sim.size() ? sim.get(i) : "-";
            String b = i < kvm.size() ? kvm.get(i) : "-";
            o.printf(Locale.ROOT, "#   %2d %-34s sim: %-28s kvm: %s%s%n", i, op.describe(), a, b, a.equals(b) ? "" : "   <-- differs");
        }
    }

    /** The report as one HTML page: totals, quirks, the divergences' minimized histories step by step. */
    private void writeHtml(Conformance.Report r, List<Quirk> quirks, Map<String, Long> coverage) {
        StringBuilder b = new StringBuilder("<!doctype html><meta charset=utf-8><title>conformance</title>\n");
        b.append("<style>body{font-family:sans-serif} td,th{padding:2px 8px;text-align:left} .d{background:#fdd}</style>\n");
        b.append("<h1>conformance: the simulator (policy ").append(esc(policy)).append(") against /dev/kvm</h1>\n<p>")
                .append(esc(HostKvm.detect().describe())).append("</p>\n<p>").append(r.histories()).append(" histories from seed ")
                .append(seed).append(", ").append(r.steps()).append(" steps; <b>").append(r.divergences().size())
                .append(" unexplained divergences</b></p>\n<h2>Steps by kind</h2>\n<table>");
        r.stepsByKind().forEach((k, n) -> b.append("<tr><td>").append(esc(k)).append("</td><td>").append(n).append("</td></tr>"));
        b.append("</table>\n<h2>Quirks</h2>\n<table><tr><th>quirk</th><th>hits</th><th>what</th></tr>");
        for (Quirk q : quirks) {
            b.append("<tr><td>").append(q.name()).append("</td><td>").append(r.quirkHits().getOrDefault(q, 0L)).append("</td><td>")
                    .append(esc(q.description())).append("</td></tr>");
        }
        b.append("</table>\n<h2>Simulator paths reached</h2>\n<table>");
        coverage.forEach((k, n) -> b.append("<tr><td>").append(esc(k)).append("</td><td>").append(n).append("</td></tr>"));
        b.append("</table>\n<h2>Divergences</h2>\n");
        r.bySignature().forEach((sig, n) -> b.append("<p>").append(n).append(" &times; ").append(esc(sig)).append("</p>\n"));
        for (Conformance.Divergence d : r.minimized()) {
            History h = d.prefix();
            b.append("<h3>history seed ").append(h.seed()).append(", ").append(h.ops().size()).append(" steps</h3>\n<table>")
                    .append("<tr><th>#</th><th>step</th><th>simulator</th><th>kvm</th></tr>");
            for (int i = 0; i < h.ops().size(); i++) {
                String a = i < d.simObservations().size() ? d.simObservations().get(i) : "-";
                String k = i < d.kvmObservations().size() ? d.kvmObservations().get(i) : "-";
                b.append(a.equals(k) ? "<tr>" : "<tr class=d>").append("<td>").append(i).append("</td><td>").append(esc(h.ops().get(i).describe()))
                        .append("</td><td>").append(esc(a)).append("</td><td>").append(esc(k)).append("</td></tr>");
            }
            b.append("</table>\n");
        }
        try {
            Files.writeString(html, b);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write --html " + html, e);
        }
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private void writeJson(Conformance.Report r, List<Quirk> quirks, Map<String, Long> coverage) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("command", "conformance");
        root.put("policy", policy);
        root.put("seed", seed);
        root.put("histories", r.histories());
        root.put("steps", r.steps());
        ObjectNode kinds = root.putObject("steps_by_kind");
        for (Map.Entry<String, Long> e : r.stepsByKind().entrySet()) {
            kinds.put(e.getKey(), e.getValue());
        }
        ArrayNode qs = root.putArray("quirks");
        for (Quirk q : quirks) {
            qs.addObject().put("name", q.name()).put("description", q.description()).put("hits", r.quirkHits().getOrDefault(q, 0L));
        }
        ObjectNode cov = root.putObject("simulator_stats");
        coverage.forEach(cov::put);
        root.put("unexplained_divergences", r.divergences().size());
        ArrayNode ds = root.putArray("minimized");
        for (Conformance.Divergence d : r.minimized()) {
            ObjectNode o = ds.addObject();
            o.put("step", d.step());
            o.put("sim", d.sim());
            o.put("kvm", d.kvm());
            o.set("history", d.prefix().toJson());
        }
        try {
            m.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), root);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write --json " + json, e);
        }
    }
}
