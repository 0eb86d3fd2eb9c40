// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The comparison as one self-contained HTML page: Chart.js (from its webjar) and the data are inlined, so the
 * page needs no network when viewed. It opens with the headline ({@link CompareHeadline}), then draws, per
 * latency, the histograms and CDFs of sim and real, the stats as bars, and the timing medians as two charts,
 * times and rates ({@link TimingCharts}); the tables are plain HTML. After drawing, the page checks itself and
 * writes the result as JSON into {@code <script type="application/json" id="self-check">}: how many canvases
 * have pixels and which errors reached the console. It is for the headless-Chromium test, so it stays out of
 * what a reader sees.
 */
final class CompareHtml {
    private static final String WEBJAR = "META-INF/resources/webjars/chart.js/";
    private static final String POM = "META-INF/maven/org.webjars.npm/chart.js/pom.properties";

    private CompareHtml() {
    }

    static String render(Map<String, Object> result) {
        StringBuilder h = new StringBuilder(300_000);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
        h.append("<title>").append(esc("compare " + result.get("test"))).append("</title>\n");
        // Installed first, so that errors while loading Chart.js or drawing are counted too.
        h.append("<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));});"
                + "(function(){var ce=console.error;console.error=function(){window.__errors.push(Array.prototype.join.call(arguments,' '));"
                + "return ce.apply(console,arguments);};})();</script>\n");
        h.append("<style>").append(resource("compare-report.css")).append("</style>\n");
        h.append("<script>").append(chartJs()).append("</script>\n");
        h.append("<script type=\"application/json\" id=\"compare-data\">").append(json(result)).append("</script>\n");
        List<Map<String, Object>> timingCharts = TimingCharts.of(result);
        h.append("<script type=\"application/json\" id=\"timing-charts\">").append(json(timingCharts)).append("</script>\n");
        h.append("<script type=\"application/json\" id=\"self-check\">{\"state\":\"pending\"}</script>\n");
        h.append("</head><body>\n");
        h.append("<h1>").append(esc("compare " + result.get("test") + " " + String.join(" ", strings(result.get("test_args")))))
                .append("</h1>\n");
        h.append("<div id=\"headline\">\n");
        for (String line : strings(result.get("headline"))) {
            h.append("<p>").append(esc(line)).append("</p>\n");
        }
        h.append("</div>\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> host = (Map<String, Object>) result.get("host");
        h.append("<p>Host KVM: <b>").append(esc(String.valueOf(host.get("description")))).append("</b>. ")
                .append(result.get("rounds")).append(" rounds per backend, alternating. Simulator policy <code>")
                .append(esc(String.valueOf(result.get("policy")))).append("</code>, cost model <code>")
                .append(esc(String.valueOf(result.get("cost_model")))).append("</code>.</p>\n");
        h.append("<div id=\"latency-charts\"></div>\n");
        h.append("<h2>Stats (median per backend)</h2>\n<div class=\"chart\"><canvas id=\"stats-chart\"></canvas></div>\n");
        for (Map<String, Object> chart : timingCharts) {
            h.append("<h2>").append(esc((String) chart.get("title"))).append("</h2>\n<div class=\"chart\"><canvas id=\"")
                    .append(chart.get("id")).append("\"></canvas></div>\n");
        }
        h.append(tables(result));
        h.append("<script>").append(resource("compare-report.js")).append("</script>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    @SuppressWarnings("unchecked")
    private static String tables(Map<String, Object> result) {
        StringBuilder h = new StringBuilder();
        h.append("<h2>Timing table</h2>\n<table><tr><th>timing</th><th>unit</th><th>sim median</th><th>sim min–max</th>"
                + "<th>real median</th><th>real min–max</th><th>real IQR/median</th><th>sim/real</th><th>permutation p</th>"
                + "<th>verdict</th></tr>\n");
        for (Map<String, Object> row : (List<Map<String, Object>>) result.get("timings")) {
            Map<String, Object> ss = (Map<String, Object>) row.get("sim_spread");
            Map<String, Object> rs = (Map<String, Object>) row.get("real_spread");
            h.append("<tr><td>").append(esc((String) row.get("name"))).append("</td><td>").append(row.get("unit"))
                    .append("</td><td>").append(CompareText.num(row.get("sim_median"))).append("</td><td>")
                    .append(CompareText.num(ss.get("min"))).append("–").append(CompareText.num(ss.get("max")))
                    .append("</td><td>").append(CompareText.num(row.get("real_median"))).append("</td><td>")
                    .append(CompareText.num(rs.get("min"))).append("–").append(CompareText.num(rs.get("max")))
                    .append("</td><td>").append(CompareText.num(rs.get("iqr_rel"))).append("</td><td>")
                    .append(CompareText.num(row.get("ratio"))).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.3f", (double) row.get("p_value")))
                    .append("</td><td class=\"").append(cls((String) row.get("verdict"))).append("\">")
                    .append(esc((String) row.get("verdict"))).append("</td></tr>\n");
        }
        h.append("</table>\n");
        h.append("<h2>Stats table</h2>\n<table><tr><th>scope</th><th>stat</th><th>sim median</th><th>real median</th>"
                + "<th>sim/real</th><th>tolerance</th><th>verdict</th><th>comparable on this host?</th></tr>\n");
        for (Map<String, Object> row : (List<Map<String, Object>>) result.get("stats")) {
            boolean comparable = Boolean.TRUE.equals(row.get("comparable"));
            h.append("<tr><td>").append(row.get("scope")).append("</td><td>").append(esc((String) row.get("name")))
                    .append("</td><td>").append(CompareText.num(row.get("sim_median"))).append("</td><td>")
                    .append(CompareText.num(row.get("real_median"))).append("</td><td>")
                    .append(CompareText.num(row.get("ratio"))).append("</td><td>")
                    .append(comparable ? esc((String) row.get("tolerance")) : "–").append("</td><td class=\"")
                    .append(cls((String) row.get("verdict"))).append("\">").append(esc((String) row.get("verdict")))
                    .append("</td><td>").append(comparable ? "yes: " : "no: ").append(esc((String) row.get("reason")))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
        return h.toString();
    }

    private static String cls(String verdict) {
        return switch (verdict) {
            case "match", "within ±25%" -> "ok";
            case "differs" -> "bad";
            default -> "na";
        };
    }

    private static List<String> strings(Object o) {
        return o instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** JSON safe inside a script element: no "</" can close it. */
    private static String json(Object data) {
        try {
            return new ObjectMapper().writeValueAsString(data).replace("</", "<\\/");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("serialising the comparison", e);
        }
    }

    private static String chartJs() {
        Properties p = new Properties();
        try (InputStream in = stream(POM)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (InputStream in = stream(WEBJAR + p.getProperty("version") + "/dist/chart.umd.js")) {
            // A script element ends at the first "</script": the bundle never contains one, but make sure.
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("</script", "<\\/script");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String resource(String name) {
        try (InputStream in = stream("dev/kvmharness/selftests/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream stream(String path) throws IOException {
        InputStream in = CompareHtml.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            throw new IOException("missing resource " + path);
        }
        return in;
    }
}
