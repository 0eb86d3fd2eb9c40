// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static dev.kvmharness.selftests.CompareFixtures.PVM;
import static dev.kvmharness.selftests.CompareFixtures.TDP;
import static dev.kvmharness.selftests.CompareFixtures.compare;
import static dev.kvmharness.selftests.CompareFixtures.row;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The HTML page as written: self-contained, times and rates charted apart, the self-check out of sight. */
class CompareHtmlTest {
    /** What a reader sees before any script runs: the page less its scripts, styles, comments and tags. */
    static String visibleText(String html) {
        return html.replaceAll("(?s)<script\\b.*?</script>", " ").replaceAll("(?s)<style\\b.*?</style>", " ")
                .replaceAll("(?s)<!--.*?-->", " ").replaceAll("(?s)<[^>]*>", " ");
    }

    private static String jsonElement(String html, String id) {
        Matcher m = Pattern.compile("(?s)<script type=\"application/json\" id=\"" + id + "\">(.*?)</script>").matcher(html);
        assertThat(m.find()).as("a JSON script element #" + id).isTrue();
        return m.group(1);
    }

    @Test
    void thePageIsSelfContained() {
        String html = CompareHtml.render(compare(PVM, 1_000_000, 1_000_000));
        assertThat(html).contains("Chart.js v4", "id=\"compare-data\"", "not comparable");
        assertThat(html).doesNotContainPattern("(src|href)=\"(https?:)?//");
        // Only our own script elements close: the inlined data and library cannot end one early.
        // error capture, Chart.js, data, timing charts, self-check, drawing
        assertThat(html.split("</script>", -1)).hasSize(7);
    }

    @Test
    void theSelfCheckIsDataForTheTestNotTextOnThePage() throws Exception {
        String html = CompareHtml.render(compare(PVM, 1_000_000, 1_000_000));
        assertThat(new ObjectMapper().readTree(jsonElement(html, "self-check")).path("state").asText()).isEqualTo("pending");
        assertThat(visibleText(html)).as("visible text of the page").doesNotContainIgnoringCase("self-check")
                .doesNotContain("charts drawn", "pending").contains("Host KVM:", "Timing table");
        // The drawing script writes its result into that element and nowhere a reader looks.
        assertThat(CompareHtml.render(compare(PVM, 1_000_000, 1_000_000))).doesNotContain("<body data-charts");
    }

    @Test
    @SuppressWarnings("unchecked")
    void timesAndRatesAreChartedApartWithTheBetterDirectionSaid() throws Exception {
        Map<String, Object> res = compare(TDP, 5, 100_000, 1_000_000);
        List<Map<String, Object>> charts = TimingCharts.of(res);
        assertThat(charts).extracting(c -> c.get("id")).containsExactly("times-chart", "rates-chart");
        Map<String, Object> times = charts.get(0);
        Map<String, Object> rates = charts.get(1);
        assertThat((String) times.get("title")).contains("lower is faster");
        assertThat((String) times.get("axis")).isEqualTo("ns (log), lower is faster");
        assertThat((String) rates.get("title")).contains("higher is faster");
        assertThat((String) rates.get("axis")).isEqualTo("pages/s (log), higher is faster");
        assertThat((List<String>) times.get("labels")).containsExactly("total_guest_execution_ns (sim 0.1x)",
                "first_touch_ns p50 (sim 0.26x)", "first_touch_ns p90 (sim 0.29x)", "first_touch_ns p99 (sim 0.29x)",
                "first_touch_ns p99_9 (sim 0.29x)", "first_touch_ns max (sim 0.29x)");
        assertThat((List<String>) rates.get("labels")).containsExactly("overall_pgs_per_sec (sim 10x)");
        Map<String, Object> total = row(res, "timings", "total_guest_execution_ns");
        assertThat(((List<Double>) times.get("sim")).get(0)).isEqualTo(total.get("sim_median"));
        assertThat(((List<Double>) times.get("real")).get(0)).isEqualTo(total.get("real_median"));
        Map<String, Object> rate = row(res, "timings", "overall_pgs_per_sec");
        assertThat((List<Double>) rates.get("sim")).containsExactly((Double) rate.get("sim_median"));
        assertThat((List<Double>) rates.get("real")).containsExactly((Double) rate.get("real_median"));

        String html = CompareHtml.render(res);
        assertThat(Pattern.compile("<canvas id=\"(times|rates)-chart\">").matcher(html).results().count())
                .as("one canvas per timing chart").isEqualTo(2);
        assertThat(html).doesNotContain("id=\"timing-chart\"");
        assertThat(new ObjectMapper().readValue(jsonElement(html, "timing-charts"), List.class)).isEqualTo(charts);
    }

    @Test
    void aPortWithoutRatesGetsOnlyTheTimesChart() {
        Map<String, Object> res = compare(TDP, 5, 100_000, 1_000_000);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> timings = (List<Map<String, Object>>) res.get("timings");
        timings.removeIf(CompareHeadline::isRate);
        assertThat(TimingCharts.of(res)).extracting(c -> c.get("id")).containsExactly("times-chart");
        assertThat(CompareHtml.render(res)).contains("<canvas id=\"times-chart\">").doesNotContain("<canvas id=\"rates-chart\">");
    }
}
