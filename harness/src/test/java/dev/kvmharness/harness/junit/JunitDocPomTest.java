// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The pom docs/junit.md tells users to copy is the example's, which CI builds offline against the installed
 * artifacts: a change to one without the other would hand users a pom nobody built.
 */
class JunitDocPomTest {
    /** Surefire runs in the module's directory; the repository root is one up. */
    private static final Path ROOT = Path.of("..");

    @Test
    void theDocumentedPomIsTheExamplesPom() throws IOException {
        String doc = Files.readString(ROOT.resolve("docs/junit.md"));
        String pom = Files.readString(ROOT.resolve("examples/dirty-log-test/pom.xml"));
        int start = doc.indexOf("```xml\n", doc.indexOf("## The pom"));
        assertThat(start).as("an xml block under '## The pom' in docs/junit.md").isPositive();
        int end = doc.indexOf("```\n", start + 7);
        assertThat(doc.substring(start + "```xml\n".length(), end))
                .as("docs/junit.md's pom and examples/dirty-log-test/pom.xml").isEqualTo(pom);
    }
}
