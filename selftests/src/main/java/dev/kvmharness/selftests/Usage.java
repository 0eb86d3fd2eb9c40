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
