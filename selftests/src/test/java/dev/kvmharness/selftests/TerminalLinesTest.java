// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TerminalLinesTest {
    private static List<String> lines(String text) throws IOException {
        TerminalLines t = new TerminalLines(new StringReader(text));
        List<String> out = new ArrayList<>();
        for (String l = t.next(); l != null; l = t.next()) {
            out.add(l);
        }
        return out;
    }

    @Test
    void aLineRewrittenWithCarriageReturnsIsTheLastTextWritten() throws IOException {
        String rendezvous = "Waiting for vCPUs to finish run 1...\n"
                + "\r3 vCPUs haven't rendezvoused...".repeat(500)
                + "\r0 vCPUs haven't rendezvoused...\rAll vCPUs finished run 1, releasing...\n"
                + "run1 = 1.0s\n";
        assertThat(lines(rendezvous)).as("the \\r progress lines of rendezvous_with_vcpus() collapse to one")
                .containsExactly("Waiting for vCPUs to finish run 1...", "All vCPUs finished run 1, releasing...",
                        "run1 = 1.0s");
    }

    @Test
    void crLfIsANewlineAndPlainLinesAreKept() throws IOException {
        assertThat(lines("a\r\nb\n\nc")).containsExactly("a", "b", "", "c");
    }

    @Test
    void aProgressLineLeftWithoutNewlineAtTheEndIsKept() throws IOException {
        assertThat(lines("x\n\r1 left\r0 left\r")).containsExactly("x", "0 left");
        assertThat(lines("")).isEmpty();
    }
}
