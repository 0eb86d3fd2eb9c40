// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.io.PrintStream;
import java.util.Locale;

/**
 * pr_info / pr_debug of lib/test_util.h: informational lines on stdout, silenced by QUIET, debug lines only
 * with DEBUG. Formatting is locale-independent, like C's printf without setlocale(). Ports print through this so the CLI can capture or silence them.
 */
public final class GuestLog {
    private static volatile PrintStream out = System.out;
    private static volatile boolean quiet;
    private static volatile boolean debug;

    private GuestLog() {
    }

    public static void configure(PrintStream stream, boolean isQuiet, boolean isDebug) {
        out = stream;
        quiet = isQuiet;
        debug = isDebug;
    }

    public static PrintStream out() {
        return out;
    }

    public static void info(String format, Object... args) {
        if (!quiet) {
            out.print(String.format(Locale.ROOT, format, args));
            out.flush();
        }
    }

    public static void debug(String format, Object... args) {
        if (debug) {
            out.print(String.format(Locale.ROOT, format, args));
            out.flush();
        }
    }
}
