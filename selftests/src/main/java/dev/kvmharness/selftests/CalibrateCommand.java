// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kvmharness.harness.Ksft;
import dev.kvmharness.harness.kvm.KvmBackend;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.CostModel;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code calibrate}: fits the simulator's costs to this host. It runs demand_paging_test with --touch-latency on
 * /dev/kvm for each option set (N rounds, the sets interleaved), takes the median total guest execution time and
 * the median p50 first-touch latency, measures how the simulator's figures move with each fitted cost, fits the
 * costs by least squares ({@link CostFit}) on the training sets only, writes the cost file, and then re-runs the
 * simulator with that file on every set to report the prediction error, held-out sets separately.
 */
@Command(name = "calibrate", sortOptions = false,
        description = "Fit the simulator's Cost parameters to demand_paging_test runs on /dev/kvm and write a cost model.")
final class CalibrateCommand implements Callable<Integer> {
    static final String TEST = "demand_paging_test";
    /**
     * One and two vCPUs: the one-vCPU sets fix the per-instruction, per-fault and userfaultfd costs, the two-vCPU
     * sets the vCPU count scaling ({@link Cost#GUEST_INSN_SMP}) and, with userfaultfd, how often a wake-up finds
     * its CPU idle ({@link Cost#CPU_IDLE_EXIT}: a vCPU and its reader alone on the host wake each other onto idle
     * CPUs, two pairs mostly find a CPU just left); the 32M sizes are held out.
     */
    static final List<String> DEFAULT_TRAIN = List.of("-b 16M", "-b 48M", "-u MISSING -b 16M", "-u MISSING -b 48M",
            "-s shmem -u MINOR -b 16M", "-s shmem -b 16M", "-v 2 -b 16M", "-v 2 -u MISSING -b 16M");
    static final List<String> DEFAULT_HELD_OUT = List.of("-b 32M", "-u MISSING -b 32M", "-s shmem -u MINOR -b 32M",
            "-v 2 -b 32M", "-s shmem -b 32M", "-v 2 -u MISSING -b 32M");
    /**
     * The costs fitted: per guest instruction, per fault, page zeroing, UFFDIO_COPY, the uffd round trip, what an
     * instruction costs more per other running vCPU, and a wake-up onto an idle host CPU.
     */
    static final List<Cost> FITTED = List.of(Cost.GUEST_INSN, Cost.FAULT_BASE, Cost.HOST_PAGE_ZERO, Cost.HOST_PAGE_COPY,
            Cost.UFFD_WAKE, Cost.GUEST_INSN_SMP, Cost.CPU_IDLE_EXIT);
    static final double TARGET = 0.25;

    @Option(names = "--rounds", paramLabel = "N", description = "Real rounds per option set. Default: ${DEFAULT-VALUE}.")
    int rounds = 5;

    @Option(names = "--train", paramLabel = "SETS", split = ";", description = "Option sets to fit on, ';'-separated.")
    List<String> train = new ArrayList<>(DEFAULT_TRAIN);

    @Option(names = "--held-out", paramLabel = "SETS", split = ";", description = "Option sets only to check the fit on.")
    List<String> heldOut = new ArrayList<>(DEFAULT_HELD_OUT);

    @Option(names = "--out", paramLabel = "FILE", description = "Cost model to write. Default: ci/cost-models/<host-kind>.cost.")
    Path out;

    @Option(names = "--json", paramLabel = "PATH", description = "Write the measurements, fit and errors as JSON.")
    Path json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The simulator policy the fit and the check run under: the one whose fault locking matches the host. */
    private String policy = "current";

    /** Every real round, by option set: the spread behind each median. */
    private final Map<String, List<Figures>> realRuns = new LinkedHashMap<>();

    /** One option set's figures: total guest execution time and p50 first-touch latency, ns. */
    record Figures(double totalNs, double p50Ns) {
    }

    @Override
    public Integer call() throws IOException {
        if (rounds < 1 || rounds > 100) {
            return Usage.error(spec.commandLine(), "--rounds must be between 1 and 100");
        }
        if (train.isEmpty()) {
            return Usage.error(spec.commandLine(), "--train needs at least one option set");
        }
        try {
            // --out's missing directories are created (as for the default, under ci/cost-models).
            CliFiles.checkCreatable("--out", out);
            CliFiles.checkWritable("--json", json);
        } catch (IllegalArgumentException e) {
            return Usage.error(spec.commandLine(), e.getMessage());
        }
        Optional<String> noKvm = new KvmBackend().unavailableReason();
        if (noKvm.isPresent()) {
            System.out.println("1..0 # SKIP calibrate needs /dev/kvm: " + noKvm.get());
            return Ksft.SKIP;
        }
        PrintStream stdout = System.out;
        HostKvm host = HostKvm.detect();
        Path file = out != null ? out : Path.of("ci", "cost-models", host.kind() + ".cost");
        List<String> sets = new ArrayList<>(train);
        sets.addAll(heldOut);
        policy = host.simPolicy();
        stdout.println("# calibrate on " + host.describe() + ", simulated with --policy " + policy + ": " + sets.size()
                + " option sets, " + rounds + " rounds each");

        Map<String, Figures> real = realMedians(sets, stdout);
        if (real == null) {
            return Ksft.FAIL;
        }
        Path work = Files.createTempDirectory("kvm-calibrate-");
        CostModel base = CostModel.defaults();
        // The Jacobian, on the training sets: one simulator run per set at the defaults and one per raised cost.
        int m = 2 * train.size();
        double[] x0 = FITTED.stream().mapToDouble(base::ns).toArray();
        double[] y0 = new double[m];
        double[][] jac = new double[m][FITTED.size()];
        double[] target = new double[m];
        for (int s = 0; s < train.size(); s++) {
            Figures at = sim(train.get(s), policy, base, work);
            y0[2 * s] = at.totalNs();
            y0[2 * s + 1] = at.p50Ns();
            target[2 * s] = real.get(train.get(s)).totalNs();
            target[2 * s + 1] = real.get(train.get(s)).p50Ns();
            for (int k = 0; k < FITTED.size(); k++) {
                long delta = Math.max(1000, base.ns(FITTED.get(k)));
                Figures up = sim(train.get(s), policy, base.with(FITTED.get(k), base.ns(FITTED.get(k)) + delta), work);
                jac[2 * s][k] = (up.totalNs() - at.totalNs()) / delta;
                jac[2 * s + 1][k] = (up.p50Ns() - at.p50Ns()) / delta;
            }
            stdout.printf("# sensitivities %-28s total %s, p50 %s%n", train.get(s), Arrays.toString(round(jac[2 * s])),
                    Arrays.toString(round(jac[2 * s + 1])));
        }
        CostFit fit = new CostFit(FITTED, x0, y0, jac);
        double[] x = fit.fit(target);
        CostModel fitted = base;
        for (int k = 0; k < FITTED.size(); k++) {
            fitted = fitted.with(FITTED.get(k), Math.round(x[k]));
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, costFile(host, fitted, real), StandardCharsets.UTF_8);
        stdout.println("# wrote " + file);

        // The check: the simulator itself, run with the written file, on every set.
        CostModel loaded = CostModel.load(file);
        List<Map<String, Object>> rows = new ArrayList<>();
        stdout.printf("%n%-28s %-9s %14s %14s %8s %12s %12s %8s%n", "option set", "role", "real total", "sim total", "error",
                "real p50", "sim p50", "error");
        boolean met = true;
        for (String set : sets) {
            Figures r = real.get(set);
            Figures p = sim(set, policy, loaded, work);
            double eTotal = p.totalNs() / r.totalNs() - 1;
            double eP50 = p.p50Ns() / r.p50Ns() - 1;
            String role = train.contains(set) ? "train" : "held-out";
            if (role.equals("held-out") && (Math.abs(eTotal) > TARGET || Math.abs(eP50) > TARGET)) {
                met = false;
            }
            stdout.printf(Locale.ROOT, "%-28s %-9s %11.1f ms %11.1f ms %+7.0f%% %9.2f us %9.2f us %+7.0f%%%n", set, role,
                    r.totalNs() / 1e6, p.totalNs() / 1e6, 100 * eTotal, r.p50Ns() / 1e3, p.p50Ns() / 1e3, 100 * eP50);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("options", set);
            row.put("role", role);
            row.put("real_median_total_ns", r.totalNs());
            row.put("real_total_min_ns", realRuns.get(set).stream().mapToDouble(Figures::totalNs).min().orElse(Double.NaN));
            row.put("real_total_max_ns", realRuns.get(set).stream().mapToDouble(Figures::totalNs).max().orElse(Double.NaN));
            row.put("sim_total_ns", p.totalNs());
            row.put("total_error", eTotal);
            row.put("real_median_p50_ns", r.p50Ns());
            row.put("real_p50_min_ns", realRuns.get(set).stream().mapToDouble(Figures::p50Ns).min().orElse(Double.NaN));
            row.put("real_p50_max_ns", realRuns.get(set).stream().mapToDouble(Figures::p50Ns).max().orElse(Double.NaN));
            row.put("sim_p50_ns", p.p50Ns());
            row.put("p50_error", eP50);
            rows.add(row);
        }
        CompareRound.deleteWorkDir(work);
        stdout.println();
        String verdict = "held-out target (total and p50 within " + Math.round(TARGET * 100) + "%): " + (met ? "met" : "NOT met");
        stdout.println(verdict);
        // The file says how well it predicts: the check table goes into it as comments.
        StringBuilder check = new StringBuilder("# Check: the simulator re-run with this file (error = sim / real median - 1):\n");
        for (Map<String, Object> row : rows) {
            check.append(String.format(Locale.ROOT, "#   %-28s %-8s total %+5.0f%%   p50 %+5.0f%%%n", row.get("options"),
                    row.get("role"), 100 * (double) row.get("total_error"), 100 * (double) row.get("p50_error")));
        }
        check.append("# ").append(verdict).append('\n');
        Files.writeString(file, check.toString(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        if (json != null) {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("host", host.toJson());
            root.put("rounds", rounds);
            root.put("policy", policy);
            Map<String, Object> costs = new LinkedHashMap<>();
            for (Cost c : FITTED) {
                costs.put(c.key(), loaded.ns(c));
            }
            root.put("fitted_costs", costs);
            root.put("rows", rows);
            root.put("target_met", met);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), root);
        }
        return Ksft.PASS;
    }

    private static long[] round(double[] v) {
        return Arrays.stream(v).mapToLong(Math::round).toArray();
    }

    private static List<String> args(String set) {
        return Arrays.stream(set.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    /** Real medians per set; the sets are interleaved round by round so host drift spreads over all of them. */
    private Map<String, Figures> realMedians(List<String> sets, PrintStream stdout) throws IOException {
        Path work = Files.createTempDirectory("kvm-calibrate-real-");
        Map<String, List<Figures>> runs = realRuns;
        for (int r = 1; r <= rounds; r++) {
            for (String set : sets) {
                CompareRound round = CompareRound.run(TEST, args(set), "kvm", List.of("--touch-latency"), work, 600);
                if (round.exitCode() != Ksft.PASS || round.report() == null) {
                    System.err.print(round.output());
                    System.err.printf("error: %s %s on kvm exited %d%n", TEST, set, round.exitCode());
                    return null;
                }
                Figures f = figures(round.report());
                runs.computeIfAbsent(set, k -> new ArrayList<>()).add(f);
                stdout.printf(Locale.ROOT, "# round %d kvm %-28s total %.1f ms, p50 %.2f us%n", r, set, f.totalNs() / 1e6,
                        f.p50Ns() / 1e3);
            }
        }
        CompareRound.deleteWorkDir(work);
        Map<String, Figures> med = new LinkedHashMap<>();
        runs.forEach((set, fs) -> med.put(set, new Figures(
                Comparison.median(fs.stream().mapToDouble(Figures::totalNs).toArray()),
                Comparison.median(fs.stream().mapToDouble(Figures::p50Ns).toArray()))));
        return med;
    }

    @SuppressWarnings("unchecked")
    static Figures figures(Map<String, Object> report) {
        Map<String, Object> t = (Map<String, Object>) report.get("timings");
        Map<String, Object> lat = (Map<String, Object>) ((Map<String, Object>) report.get("latencies")).get("first_touch_ns");
        return new Figures(((Number) t.get("total_guest_execution_ns")).doubleValue(), ((Number) lat.get("p50")).doubleValue());
    }

    /** One simulator run of {@code set} under {@code policy} with {@code costs}, in this JVM (deterministic; its output discarded). */
    static Figures sim(String set, String policy, CostModel costs, Path work) throws IOException {
        Path costFile = Files.createTempFile(work, "costs-", ".cost");
        StringBuilder sb = new StringBuilder();
        costs.asMap().forEach((c, ns) -> sb.append(c.key()).append(" = ").append(ns).append('\n'));
        Files.writeString(costFile, sb.toString());
        Path json = Files.createTempFile(work, "sim-", ".json");
        List<String> cmd = new ArrayList<>();
        cmd.add(TEST);
        cmd.addAll(args(set));
        cmd.addAll(List.of("--touch-latency", "--backend", "sim", "--policy", policy, "--cost-model", costFile.toString(), "--json", json.toString()));
        // the simulated host has this host's CPUs, which the real run's vCPU, reader and main threads shared
        cmd.addAll(List.of("--host-cpus", Integer.toString(Runtime.getRuntime().availableProcessors())));
        PrintStream saved = System.out;
        PrintStream savedErr = System.err;
        int rc;
        try (PrintStream devNull = new PrintStream(OutputStream.nullOutputStream())) {
            System.setOut(devNull);
            System.setErr(devNull);
            rc = Main.commandLine().execute(cmd.toArray(new String[0]));
        } finally {
            System.setOut(saved);
            System.setErr(savedErr);
        }
        if (rc != Ksft.PASS) {
            throw new IllegalStateException("simulated " + TEST + " " + set + " exited " + rc);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> report = new ObjectMapper().readValue(json.toFile(), Map.class);
        return figures(report);
    }

    private String costFile(HostKvm host, CostModel fitted, Map<String, Figures> real) {
        StringBuilder sb = new StringBuilder();
        sb.append("# SPDX-License-Identifier: GPL-2.0-only\n");
        sb.append("# Simulator costs fitted to this host by `java -jar selftests/target/selftests.jar calibrate");
        sb.append(" --rounds ").append(rounds).append("` on ").append(Instant.now()).append(".\n");
        sb.append("# Host: ").append(host.describe()).append(".\n");
        int cpus = Runtime.getRuntime().availableProcessors();
        sb.append("# Simulated with --policy ").append(policy).append(" (the fault locking of this host's MMU) and --host-cpus ")
                .append(cpus).append(" (its CPUs);\n");
        sb.append("# use it with both, e.g. demand_paging_test --policy ").append(policy).append(" --host-cpus ").append(cpus)
                .append(" --cost-model <this file>.\n");
        sb.append("# Fitted (least squares on relative errors, Commons Math Levenberg-Marquardt) to the median total guest\n");
        sb.append("# execution time and p50 first-touch latency (demand_paging_test --touch-latency on /dev/kvm) of:\n");
        for (String set : train) {
            Figures f = real.get(set);
            sb.append(String.format(Locale.ROOT, "#   %-28s total %10.1f ms   p50 %8.2f us%n", set, f.totalNs() / 1e6, f.p50Ns() / 1e3));
        }
        sb.append("# Held out (not fitted on): ").append(String.join("; ", heldOut)).append(".\n");
        sb.append("# These are effective costs for this host, not per-operation truths: e.g. under shadow paging the\n");
        sb.append("# guest's instructions after a fault are emulated, which the fit puts into guest_insn.\n");
        for (Cost c : FITTED) {
            sb.append(c.key()).append(" = ").append(fitted.ns(c)).append('\n');
        }
        return sb.toString();
    }
}
