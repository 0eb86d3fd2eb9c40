// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * kselftest/runner.sh for the ports: each test in a fresh JVM with a timeout, its output prefixed with "# ",
 * then "ok N selftests: kvm: name" (or "# SKIP", "# TIMEOUT n seconds", "# exit=rc") and the totals. A test's
 * output is read as a terminal shows it ({@link TerminalLines}): a {@code \r} progress line is one comment.
 * Stopped by a signal (Ctrl-C), the runner ends the TAP stream properly: the totals so far and
 * {@code Bail out!}, after killing the test in flight. With a simulator policy every test gets {@code --policy}
 * and the stream's header says which ("# simulator policy: 6.15").
 */
final class SuiteRunner {
    static final int DEFAULT_TIMEOUT_SECONDS = 120;
    private static final int EXIT_SKIP = 4;

    private final String backend;
    /** The --policy every test runs with, or null for the tests' own default. */
    private final String policy;
    private final int timeoutSeconds;
    private final PrintStream out;
    private int pass;
    private int fail;
    private int skip;
    /** The test in flight and its JVM, for the shutdown hook. */
    private String current;
    private Process running;
    private boolean finished;

    SuiteRunner(String backend, String policy, int timeoutSeconds, PrintStream out) {
        this.backend = backend;
        this.policy = policy;
        this.timeoutSeconds = timeoutSeconds;
        this.out = out;
    }

    /** Runs the tests and returns 0 if none failed or timed out, 1 otherwise (a skip is not a failure). */
    int run(List<SuiteItem> tests) {
        Thread bailOut = new Thread(this::bailOut, "suite-bail-out");
        Runtime.getRuntime().addShutdownHook(bailOut);
        try {
            return runAll(tests);
        } finally {
            synchronized (this) {
                finished = true;
            }
            try {
                Runtime.getRuntime().removeShutdownHook(bailOut);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run; it sees finished and prints nothing
            }
        }
    }

    private int runAll(List<SuiteItem> tests) {
        out.println("TAP version 13");
        out.println("1.." + tests.size());
        if (policy != null) {
            out.println("# simulator policy: " + policy);
        }
        for (int i = 0; i < tests.size(); i++) {
            SuiteItem item = tests.get(i);
            String title = item.title();
            out.println("# timeout set to " + timeoutSeconds);
            out.println("# " + title);
            List<String> extra = Ports.byName(item.test()).map(Ports.Entry::suiteArgs).orElse(List.of());
            if (!extra.isEmpty()) {
                out.println("# suite arguments: " + String.join(" ", extra));
            }
            synchronized (this) {
                current = title;
            }
            Outcome o = runOne(item, extra);
            int n = i + 1;
            synchronized (this) {
                if (finished) {
                    // the shutdown hook closed the stream: nothing may follow its Bail out! line
                    return 1;
                }
                if (o.timedOut) {
                    out.println("not ok " + n + " " + title + " # TIMEOUT " + timeoutSeconds + " seconds");
                    fail++;
                } else if (o.exitCode == 0) {
                    out.println("ok " + n + " " + title);
                    pass++;
                } else if (o.exitCode == EXIT_SKIP) {
                    out.println("ok " + n + " " + title + " # SKIP");
                    skip++;
                } else {
                    out.println("not ok " + n + " " + title + " # exit=" + o.exitCode);
                    fail++;
                }
                current = null;
            }
        }
        out.println(totals());
        out.flush();
        return fail == 0 ? 0 : 1;
    }

    private String totals() {
        return String.format("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0", pass, fail, skip);
    }

    /** The JVM is going down before the suite finished (SIGINT, SIGTERM): close the TAP stream with a reason. */
    private synchronized void bailOut() {
        if (finished) {
            return;
        }
        Process p = running;
        if (p != null) {
            p.destroyForcibly();
        }
        synchronized (out) {
            out.println(totals());
            out.println("Bail out! interrupted by a signal" + (current != null ? " during " + current : ""));
            out.flush();
        }
        finished = true;
    }

    private record Outcome(int exitCode, boolean timedOut) {
    }

    private Outcome runOne(SuiteItem item, List<String> extra) {
        String test = item.test();
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        // The harness's own settings (e.g. kvmharness.dev.kvm) and JNA's (where its native stub lives, in the
        // read-only container image) reach every test.
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("kvmharness.") || k.startsWith("jna."))
                .sorted()
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(Main.class.getName());
        cmd.add(test);
        cmd.add("--backend");
        cmd.add(backend);
        if (item.seed() != null) {
            cmd.add("--seed");
            cmd.add(Long.toString(item.seed()));
        }
        if (policy != null) {
            cmd.add("--policy");
            cmd.add(policy);
        }
        cmd.addAll(extra);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process started = null;
        try {
            Process p = pb.start();
            started = p;
            synchronized (this) {
                running = p;
            }
            Thread pump = new Thread(() -> {
                try (Reader r = new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)) {
                    TerminalLines lines = new TerminalLines(r);
                    String line;
                    while ((line = lines.next()) != null) {
                        synchronized (out) {
                            out.println("# " + line);
                        }
                    }
                } catch (IOException e) {
                    synchronized (out) {
                        out.println("# (output lost: " + e.getMessage() + ")");
                    }
                }
            }, "suite-output-" + test);
            pump.start();
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor();
            }
            pump.join();
            synchronized (this) {
                running = null;
            }
            return new Outcome(done ? p.exitValue() : 124, !done);
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + test, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            started.destroyForcibly();
            return new Outcome(130, false);
        }
    }

    /** The class path a child JVM needs to run {@link Main}: this jar (or classes) and ours. */
    static String classpath() {
        try {
            return new File(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath()
                    + File.pathSeparator + System.getProperty("java.class.path");
        } catch (URISyntaxException e) {
            return System.getProperty("java.class.path");
        }
    }
}
