// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.junit.RequiresKvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compare through the packaged jar on both backends, then its HTML page in headless Chromium (Debian's chromium,
 * installed by ci/setup-host.sh): every chart must have drawn pixels and nothing may reach the console as an error.
 * The page reports both in its JSON element #self-check once drawn, out of the reader's sight; --dump-dom prints the
 * DOM after the scripts ran. Two rounds per backend are too few for a significance verdict, which the reports say.
 */
@RequiresKvm
class CompareReportChromiumIT {
    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void compareWritesJsonAndAPageWhoseChartsDrawInChromium() throws Exception {
        Path json = dir.resolve("r.json");
        Path html = dir.resolve("r.html");
        SelftestsJar.Result r = SelftestsJar.run(600, "compare", "demand_paging_test", "-b", "4M", "--rounds", "2",
                "--json", json.toString(), "--html", html.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("# round 2 sim", "# round 2 kvm", "host KVM:", "first_touch_ns p50",
                "demand_paging_test -b 4M, 2 rounds per backend: the simulator takes ", "timings: 0 of ");
        Map<String, Object> res = new ObjectMapper().readValue(json.toFile(), Map.class);
        List<String> headline = (List<String>) res.get("headline");
        assertThat(r.out()).contains(String.join("\n", headline));
        assertThat((List<Map<String, Object>>) res.get("timings")).allSatisfy(m -> assertThat((String) m.get("verdict"))
                .as("2 + 2 rounds cannot reach p < 0.05: %s", m)
                .satisfiesAnyOf(v -> assertThat(v).isEqualTo("within ±25%"), v -> assertThat(v).isEqualTo(
                        "too few rounds for a verdict (smallest reachable p = 0.333; need 4 rounds per backend)")));
        List<Map<String, Object>> stats = (List<Map<String, Object>>) res.get("stats");
        assertThat(stats).extracting(m -> m.get("name")).contains("pf_fixed", "tlb_flush", "remote_tlb_flush", "pages_4k");
        assertThat(stats).allSatisfy(m -> assertThat(m.get("verdict")).isIn("match", "differs", "not comparable"));
        assertThat(stats).filteredOn(m -> Boolean.FALSE.equals(m.get("comparable")))
                .allSatisfy(m -> assertThat((String) m.get("reason")).isNotBlank());
        assertThat((Map<String, Object>) res.get("latencies")).containsKey("first_touch_ns");

        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertThat(page).doesNotContainPattern("(src|href)=\"(https?:)?//");
        Chromium c = dumpDom(html);
        assertThat(c.exit()).as(c.stderr()).isZero();
        JsonNode check = selfCheck(c.dom());
        assertThat(check.path("state").asText()).as("self-check in " + c.dom().substring(0, Math.min(c.dom().length(), 2000))).isEqualTo("drawn");
        int expected = check.path("charts_expected").asInt();
        // Histogram and CDF of the first-touch latency, the stats, the times and the rates.
        assertThat(expected).as(check.toString()).isGreaterThanOrEqualTo(5);
        assertThat(check.path("charts_drawn").asInt()).as("charts with pixels").isEqualTo(expected);
        assertThat(check.path("console_errors")).as("console errors").isEmpty();
        assertThat(c.dom()).contains("<canvas id=\"times-chart\"", "<canvas id=\"rates-chart\"");
        String visible = CompareHtmlTest.visibleText(c.dom());
        assertThat(visible).as("what a reader sees").doesNotContainIgnoringCase("self-check").doesNotContain("charts drawn")
                .contains(CompareHtml.esc(headline.get(0)));
        assertThat(c.stderr()).doesNotContain("Uncaught");
    }

    private record Chromium(int exit, String dom, String stderr) {
    }

    private Chromium dumpDom(Path html) throws Exception {
        String exe = Files.isExecutable(Path.of("/usr/bin/chromium")) ? "/usr/bin/chromium" : "chromium";
        List<String> cmd = new ArrayList<>(List.of(exe, "--headless", "--no-sandbox", "--disable-gpu",
                "--window-size=1400,3000", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                "--dump-dom", html.toUri().toString()));
        Path out = dir.resolve("dom.html");
        Path err = dir.resolve("chromium.err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("chromium did not finish in 120 s: " + Files.readString(err));
        }
        return new Chromium(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static JsonNode selfCheck(String dom) throws Exception {
        Matcher m = Pattern.compile("(?s)<script type=\"application/json\" id=\"self-check\">(.*?)</script>").matcher(dom);
        assertThat(m.find()).as("#self-check in " + dom.substring(0, Math.min(dom.length(), 2000))).isTrue();
        return new ObjectMapper().readTree(m.group(1));
    }
}
