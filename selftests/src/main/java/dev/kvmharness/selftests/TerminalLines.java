// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.io.IOException;
import java.io.Reader;

/**
 * A test's output as a terminal would leave it on screen: a carriage return starts the line again, so a C
 * progress line rewritten with {@code \r} ("3 vCPUs haven't rendezvoused...") is one line, the last text
 * written to it. The suite turns each line into one TAP comment; without this, every rewrite became a line.
 */
final class TerminalLines {
    private final Reader in;
    private final StringBuilder line = new StringBuilder();
    /** The last non-empty text a carriage return left on the current line. */
    private String overwritten;
    private boolean returned;

    TerminalLines(Reader in) {
        this.in = in;
    }

    /** The next line, without its terminator; null at the end of the stream. */
    String next() throws IOException {
        while (true) {
            int c = in.read();
            if (c < 0) {
                return line.length() > 0 || overwritten != null ? finish() : null;
            }
            if (c == '\n') {
                return finish();
            }
            if (returned) {
                // A carriage return not followed by a newline: what comes next overwrites the line.
                if (line.length() > 0) {
                    overwritten = line.toString();
                }
                line.setLength(0);
                returned = false;
            }
            if (c == '\r') {
                returned = true;
            } else {
                line.append((char) c);
            }
        }
    }

    private String finish() {
        String s = line.length() > 0 || overwritten == null ? line.toString() : overwritten;
        line.setLength(0);
        overwritten = null;
        returned = false;
        return s;
    }
}
