// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The printf subset guest messages may use: {@code %%} and integer conversions {@code d u x X} with optional
 * {@code 0} flag, field width and {@code l}/{@code ll} length. Without a length modifier a conversion takes
 * the low 32 bits of the register (as C's {@code %d}/{@code %u}/{@code %x} take an int); with {@code l} or
 * {@code ll} it takes all 64. Parsing happens once, when a {@link UcallSite} is made, so a bad format fails at
 * program definition rather than when the guest reports an error.
 */
final class UcallFormat {
    private final List<Object> parts;
    private final int conversions;

    private record Conversion(boolean zeroPad, int width, boolean wide, char type) {
        String render(long v) {
            String digits = switch (type) {
                case 'd' -> wide ? Long.toString(v) : Integer.toString((int) v);
                case 'u' -> wide ? Long.toUnsignedString(v) : Long.toString(v & 0xFFFFFFFFL);
                case 'x' -> wide ? Long.toHexString(v) : Integer.toHexString((int) v);
                default -> (wide ? Long.toHexString(v) : Integer.toHexString((int) v)).toUpperCase(Locale.ROOT);
            };
            if (digits.length() >= width) {
                return digits;
            }
            String pad = (zeroPad ? "0" : " ").repeat(width - digits.length());
            if (zeroPad && digits.startsWith("-")) {
                return "-" + pad + digits.substring(1);
            }
            return pad + digits;
        }
    }

    private UcallFormat(List<Object> parts, int conversions) {
        this.parts = parts;
        this.conversions = conversions;
    }

    static UcallFormat parse(String format) {
        List<Object> parts = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int n = 0;
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i++);
            if (c != '%') {
                text.append(c);
                continue;
            }
            int start = i - 1;
            if (i < format.length() && format.charAt(i) == '%') {
                text.append('%');
                i++;
                continue;
            }
            boolean zero = false;
            if (i < format.length() && format.charAt(i) == '0') {
                zero = true;
                i++;
            }
            int width = 0;
            while (i < format.length() && Character.isDigit(format.charAt(i))) {
                width = width * 10 + (format.charAt(i++) - '0');
                if (width > 64) {
                    throw bad(format, start, "field width over 64");
                }
            }
            int ells = 0;
            while (i < format.length() && format.charAt(i) == 'l' && ells < 2) {
                ells++;
                i++;
            }
            if (i >= format.length()) {
                throw bad(format, start, "unterminated conversion");
            }
            char type = format.charAt(i++);
            if ("duxX".indexOf(type) < 0) {
                throw bad(format, start, "unsupported conversion '" + format.substring(start, i)
                        + "' (only %d %u %x %X with optional 0, width, l, ll; and %%)");
            }
            if (text.length() > 0) {
                parts.add(text.toString());
                text.setLength(0);
            }
            parts.add(new Conversion(zero, width, ells > 0, type));
            n++;
        }
        if (text.length() > 0) {
            parts.add(text.toString());
        }
        return new UcallFormat(List.copyOf(parts), n);
    }

    private static IllegalArgumentException bad(String format, int at, String why) {
        return new IllegalArgumentException("guest message format \"" + format + "\" at index " + at + ": " + why);
    }

    int conversions() {
        return conversions;
    }

    /** Fills the conversions with {@code values} in order; values beyond the conversions are not shown. */
    String render(long[] values) {
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (Object p : parts) {
            if (p instanceof Conversion c) {
                out.append(c.render(values[next++]));
            } else {
                out.append((String) p);
            }
        }
        return out.toString();
    }
}
