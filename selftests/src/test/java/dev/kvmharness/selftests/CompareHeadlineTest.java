// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static dev.kvmharness.selftests.CompareFixtures.TDP;
import static dev.kvmharness.selftests.CompareFixtures.compare;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The headline at the top of the reports: read from the rows, times and rates apart, the verdicts counted. */
class CompareHeadlineTest {
    private static Map<String, Object> timing(String name, String unit, double sim, double real, String verdict) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", name);
        r.put("unit", unit);
        r.put("sim_median", sim);
        r.put("real_median", real);
        r.put("ratio", sim / real);
        r.put("verdict", verdict);
        return r;
    }

    private static Map<String, Object> stat(String name, double sim, double real, boolean comparable, String verdict) {
        return Map.of("name", name, "sim_median", sim, "real_median", real, "comparable", comparable, "verdict", verdict);
    }

    /** Rows as Comparison builds them, chosen so that every count and range in the headline is known. */
    private static Map<String, Object> result(List<Map<String, Object>> timings) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("test", "demand_paging_test");
        r.put("test_args", List.of("-b", "64M"));
        r.put("rounds", 5);
        r.put("significance", Map.of("alpha", 0.05, "smallest_reachable_p", 2.0 / 252, "rounds_needed", 4));
        r.put("stats", List.of(stat("pf_fixed", 16384, 16390, true, "match"), stat("tlb_flush", 9, 1, true, "differs"),
                stat("exits", 16385, 800, false, "not comparable"), stat("mmu_unsync", 0, 0, false, "not comparable")));
        r.put("timings", timings);
        return r;
    }

    @Test
    void theHeadlineGivesRangesCountsAndTheLargestDifference() {
        List<String> lines = CompareHeadline.lines(result(List.of(
                timing("total_guest_execution_ns", "ns", 46_000_000, 1_000_000, "differs"),
                timing("first_touch_ns p50", "ns", 800, 1000, "within ±25%"),
                timing("first_touch_ns p99", "ns", 1500, 1000, "no significant difference"),
                timing("overall_pgs_per_sec", "pages/s", 500, 50_000, "differs"))));
        assertThat(lines).containsExactly(
                "demand_paging_test -b 64M, 5 rounds per backend: the simulator takes 0.8x to 46x kvm's time (lower is"
                        + " faster) and runs at 0.01x kvm's rate (higher is faster)",
                "timings: 2 of 4 rows differ significantly (p < 0.05, medians more than ±25% apart), 1 within ±25%,"
                        + " 1 no significant difference",
                "stats: 1 of 2 comparable non-zero stats match, 1 differ; 1 not comparable on this host",
                "largest timing difference: overall_pgs_per_sec, sim 0.01x kvm (500 vs 50,000 pages/s; differs)");
    }

    @Test
    void withTooFewRoundsTheHeadlineSaysHowManyAreNeeded() {
        List<String> lines = CompareHeadline.lines(compare(TDP, 2, 100_000, 1_000_000));
        assertThat(lines.get(1)).isEqualTo("timings: 0 of 7 rows differ significantly (p < 0.05, medians more than ±25%"
                + " apart), 7 too few rounds for a verdict (smallest reachable p = 0.333 with 2 + 2 rounds; need 4 rounds"
                + " per backend)");
        assertThat(lines.get(0)).startsWith("demand_paging_test -b 64M, 2 rounds per backend: the simulator takes ")
                .endsWith("and runs at 10x kvm's rate (higher is faster)");
    }

    @Test
    void ratiosHaveTwoSignificantDigitsAndNoExponent() {
        assertThat(CompareHeadline.times(0.0162)).isEqualTo("0.016x");
        assertThat(CompareHeadline.times(46.3)).isEqualTo("46x");
        assertThat(CompareHeadline.times(463)).isEqualTo("460x");
        assertThat(CompareHeadline.times(0.8)).isEqualTo("0.8x");
    }

    @Test
    void theTextReportOpensWithTheHeadline() {
        Map<String, Object> res = compare(TDP, 2, 100_000, 1_000_000);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CompareText.print(res, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String text = buf.toString(StandardCharsets.UTF_8);
        List<String> headline = CompareHeadline.lines(res);
        assertThat(text).contains(String.join("\n", headline));
        assertThat(text.indexOf(headline.get(0))).as("headline before the tables in:%n%s", text)
                .isLessThan(text.indexOf("scope stat"));
        assertThat(text).contains("too few rounds for a verdict (smallest reachable p = 0.333; need 4 rounds per backend)");
    }

    @Test
    void theHtmlReportOpensWithTheHeadline() {
        Map<String, Object> res = compare(TDP, 2, 100_000, 1_000_000);
        String html = CompareHtml.render(res);
        String body = html.substring(html.indexOf("<body>"));
        for (String line : CompareHeadline.lines(res)) {
            assertThat(body).contains("<p>" + CompareHtml.esc(line) + "</p>");
        }
        assertThat(body.indexOf("id=\"headline\"")).as("headline before the charts").isLessThan(body.indexOf("<canvas"));
        assertThat(body).contains("too few rounds for a verdict (smallest reachable p = 0.333; need 4 rounds per backend)");
    }
}
