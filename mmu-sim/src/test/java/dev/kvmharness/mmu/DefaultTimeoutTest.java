// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every module's tests run under a default JUnit timeout (junit.jupiter.execution.timeout.default in its
 * src/test/resources/junit-platform.properties), so a test that never returns fails instead of hanging the build:
 * the engine running this test sees this module's value, and each module of the root pom has one, generous but
 * finite, with timeout.mode left at its default.
 */
class DefaultTimeoutTest {
    private static final String KEY = "junit.jupiter.execution.timeout.default";
    private static final String MODE = "junit.jupiter.execution.timeout.mode";
    private static final String FILE = "junit-platform.properties";
    /** Surefire runs in the module's directory; the repository root is one up. */
    private static final Path ROOT = Path.of("..");
    /** JUnit's own syntax for timeouts (TimeoutDurationParser): a number, one optional space, a unit (seconds without one). */
    private static final Pattern DURATION = Pattern.compile("([1-9]\\d*) ?((?:[nμm]?s)|m|h|d)?",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    private static final Map<String, Duration> UNITS = Map.of("ns", Duration.ofNanos(1), "μs", Duration.ofNanos(1000),
            "ms", Duration.ofMillis(1), "s", Duration.ofSeconds(1), "m", Duration.ofMinutes(1), "h", Duration.ofHours(1),
            "d", Duration.ofDays(1));

    /** What the engine running this class was configured with, read before each test. */
    private String engineValue;

    @RegisterExtension
    final BeforeEachCallback readConfiguration = context -> engineValue = context.getConfigurationParameter(KEY).orElse(null);

    private static Duration parse(String value) {
        Matcher m = DURATION.matcher(value.trim());
        assertThat(m.matches()).as("'%s' in JUnit's timeout syntax, e.g. '10 m'", value).isTrue();
        Duration unit = m.group(2) == null ? Duration.ofSeconds(1) : UNITS.get(m.group(2).toLowerCase(Locale.ROOT));
        return unit.multipliedBy(Long.parseLong(m.group(1)));
    }

    private static Properties load(InputStream in) throws IOException {
        Properties p = new Properties();
        try (Reader r = new InputStreamReader(in, StandardCharsets.ISO_8859_1)) {
            p.load(r);
        }
        return p;
    }

    @Test
    void theEngineRunningThisModulesTestsHasItsDefaultTimeout() throws IOException {
        List<URL> files = Collections.list(getClass().getClassLoader().getResources(FILE));
        assertThat(files).as("exactly one %s on this module's test class path, or JUnit picks one and warns", FILE).hasSize(1);
        String value = load(files.get(0).openStream()).getProperty(KEY);
        assertThat(value).as("%s in %s", KEY, files.get(0)).isNotNull();
        assertThat(engineValue).as("the Jupiter engine's %s", KEY).isEqualTo(value);
        assertThat(parse(value)).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void everyModuleHasAGenerousDefaultTimeout() throws IOException {
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        List<String> modules = new ArrayList<>();
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(pom);
        while (m.find()) {
            modules.add(m.group(1));
        }
        assertThat(modules).contains("mmu-sim");
        for (String module : modules) {
            Path file = ROOT.resolve(module).resolve("src/test/resources").resolve(FILE);
            assertThat(file).as("module %s", module).exists();
            Properties p = load(Files.newInputStream(file));
            assertThat(p.getProperty(KEY)).as("%s in %s", KEY, file).isNotNull();
            assertThat(parse(p.getProperty(KEY))).as("%s of module %s: long enough for its slowest test, short of a hang",
                    KEY, module).isBetween(Duration.ofMinutes(5), Duration.ofHours(1));
            assertThat(p.getProperty(MODE)).as("%s of module %s: left at its default, enabled", MODE, module).isNull();
        }
    }
}
