// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import picocli.CommandLine;

/** Bad input on the command line: the error, one usage line, exit 2. */
final class Usage {
    static final int EXIT_USAGE = 2;

    private Usage() {
    }

    static int error(CommandLine cmd, String message) {
        cmd.getErr().println("error: " + message);
        cmd.getErr().println(line(cmd));
        cmd.getErr().flush();
        return EXIT_USAGE;
    }

    /** A byte count the way parse_size() reads it back, in the largest unit that divides it: 3G, 512M, 4097. */
    static String size(long bytes) {
        String[] units = {"T", "G", "M", "K"};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << (40 - 10 * i);
            if (bytes != 0 && bytes % unit == 0) {
                return bytes / unit + units[i];
            }
        }
        return Long.toString(bytes);
    }

    /** "usage: selftests.jar demand_paging_test [options] (--help lists them)". */
    static String line(CommandLine cmd) {
        String[] synopsis = cmd.getCommandSpec().usageMessage().customSynopsis();
        if (synopsis.length > 0) {
            // The port's C usage line, as its original prints it.
            return "usage: " + synopsis[0];
        }
        return "usage: " + cmd.getCommandSpec().qualifiedName(" ")
                + (cmd.getSubcommands().isEmpty() ? " [options]" : " [test-name] [options]") + " (--help lists them)";
    }
}
