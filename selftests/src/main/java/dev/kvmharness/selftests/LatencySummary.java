// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * A latency distribution as reported: count, mean, percentiles and max, in the histogram's unit (ns), and the
 * whole histogram ({@code hdr}: HdrHistogram's compressed encoding, base64) so that reports can merge rounds and
 * draw it.
 */
final class LatencySummary {
    private LatencySummary() {
    }

    static Map<String, Object> of(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.getTotalCount());
        m.put("mean", Math.round(h.getMean()));
        m.put("p50", h.getValueAtPercentile(50));
        m.put("p90", h.getValueAtPercentile(90));
        m.put("p99", h.getValueAtPercentile(99));
        m.put("p99_9", h.getValueAtPercentile(99.9));
        m.put("max", h.getMaxValue());
        m.put("hdr", encode(h));
        return m;
    }

    /** HdrHistogram's compressed V2 encoding, base64. */
    static String encode(Histogram h) {
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(buf);
        byte[] bytes = new byte[n];
        buf.flip();
        buf.get(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** The inverse of {@link #encode}. */
    static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("not an HdrHistogram encoding: " + e.getMessage(), e);
        }
    }
}
