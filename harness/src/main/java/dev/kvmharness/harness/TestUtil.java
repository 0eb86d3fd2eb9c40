// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import dev.kvmharness.sys.Sys;
import java.util.BitSet;

/** Command-line helpers of lib/test_util.c and lib/kvm_util.c, with the same accepted syntax. */
public final class TestUtil {
    private TestUtil() {
    }

    /**
     * parse_size(): a number (decimal, 0x hex or 0 octal) with an optional k/m/g/t/b suffix, e.g. 10M, 3G.
     * Throws IllegalArgumentException on malformed input or overflow.
     */
    public static long parseSize(String size) {
        if (size == null || size.isEmpty() || !Character.isDigit(size.charAt(0))) {
            throw new IllegalArgumentException("Need at least one digit in '" + size + "'");
        }
        int end = 0;
        int radix = 10;
        String digits;
        if (size.startsWith("0x") || size.startsWith("0X")) {
            radix = 16;
            end = 2;
            while (end < size.length() && Character.digit(size.charAt(end), 16) >= 0) {
                end++;
            }
            digits = size.substring(2, end);
        } else {
            if (size.length() > 1 && size.charAt(0) == '0') {
                radix = 8;
            }
            while (end < size.length() && Character.isDigit(size.charAt(end))) {
                end++;
            }
            digits = size.substring(0, end);
        }
        long base;
        try {
            base = digits.isEmpty() ? 0 : Long.parseUnsignedLong(digits, radix);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Overflow parsing size!");
        }
        // Like parse_size(), only the first character after the number counts: "64MB" is 64M.
        String scale = end < size.length() ? String.valueOf(Character.toLowerCase(size.charAt(end))) : "";
        int shift;
        switch (scale) {
            case "t":
                shift = 40;
                break;
            case "g":
                shift = 30;
                break;
            case "m":
                shift = 20;
                break;
            case "k":
                shift = 10;
                break;
            case "b":
            case "":
                shift = 0;
                break;
            default:
                throw new IllegalArgumentException("Unknown size letter " + scale.charAt(0));
        }
        if (((base << shift) >>> shift) != base) {
            throw new IllegalArgumentException("Overflow scaling size!");
        }
        return base << shift;
    }

    /** atoi_positive(): a strictly positive int, with the C library's error wording. */
    public static int atoiPositive(String name, String num) {
        int n = atoiNamed(name, num);
        if (n <= 0) {
            throw new IllegalArgumentException(name + " must be greater than 0, got '" + num + "'");
        }
        return n;
    }

    /** atoi_non_negative(). */
    public static int atoiNonNegative(String name, String num) {
        int n = atoiNamed(name, num);
        if (n < 0) {
            throw new IllegalArgumentException(name + " must be non-negative, got '" + num + "'");
        }
        return n;
    }

    /** atoi_paranoid() of a named value: the C message alone does not say which option was not a number. */
    private static int atoiNamed(String name, String num) {
        try {
            return atoiParanoid(num);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    /** atoi_paranoid(): the whole string must be an int (decimal, 0x hex, 0 octal). */
    public static int atoiParanoid(String num) {
        try {
            String s = num.trim();
            boolean neg = s.startsWith("-");
            String body = neg || s.startsWith("+") ? s.substring(1) : s;
            long v;
            if (body.startsWith("0x") || body.startsWith("0X")) {
                v = Long.parseLong(body.substring(2), 16);
            } else if (body.length() > 1 && body.startsWith("0")) {
                v = Long.parseLong(body.substring(1), 8);
            } else {
                v = Long.parseLong(body);
            }
            v = neg ? -v : v;
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(v + " not in range of [" + Integer.MIN_VALUE + ", " + Integer.MAX_VALUE + "]");
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("strtol(\"" + num + "\") didn't find a valid integer.");
        }
    }

    /** The pinning of -c (kvm_parse_vcpu_pinning): a host CPU per vCPU, and optionally one for the main task. */
    public record VcpuPinning(int[] vcpuToPcpu, Integer mainPcpu) {
    }

    /** kvm_parse_vcpu_pinning(): "pcpu0,pcpu1,...[,main]" validated against this task's affinity mask. */
    public static VcpuPinning parseVcpuPinning(String list, int nrVcpus) {
        return parseVcpuPinning(list, nrVcpus, Sys.affinity());
    }

    static VcpuPinning parseVcpuPinning(String list, int nrVcpus, BitSet allowed) {
        String[] cpus = list.split(",", -1);
        int[] map = new int[nrVcpus];
        for (int i = 0; i < nrVcpus; i++) {
            if (i >= cpus.length || cpus[i].isEmpty()) {
                throw new IllegalArgumentException("pCPU not provided for vCPU '" + i + "'");
            }
            map[i] = parsePcpu(cpus[i], allowed);
        }
        Integer main = null;
        if (cpus.length > nrVcpus) {
            main = parsePcpu(cpus[nrVcpus], allowed);
        }
        if (cpus.length > nrVcpus + 1) {
            throw new IllegalArgumentException("pCPU list contains trailing garbage characters '" + cpus[nrVcpus + 1] + "'");
        }
        return new VcpuPinning(map, main);
    }

    private static int parsePcpu(String s, BitSet allowed) {
        int cpu = atoiNonNegative("CPU number", s);
        if (!allowed.get(cpu)) {
            throw new IllegalArgumentException("Not allowed to run on pCPU '" + cpu + "', check cgroups?");
        }
        return cpu;
    }
}
