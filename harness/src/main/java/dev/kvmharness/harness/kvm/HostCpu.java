// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host CPU's vendor, family and physical address width (the selftests' host_cpu_is_amd, this_cpu_family()
 * and this_cpu_property(X86_PROPERTY_MAX_PHY_ADDR)), read from /proc/cpuinfo because Java cannot execute CPUID.
 */
record HostCpu(boolean amd, int family, int physBits) {
    private static final Pattern ADDRESS_SIZES = Pattern.compile("(\\d+) bits physical");

    static HostCpu read() {
        try {
            return parse(Files.readAllLines(Path.of("/proc/cpuinfo")));
        } catch (IOException e) {
            return new HostCpu(false, 0, 0);
        }
    }

    static HostCpu parse(List<String> cpuinfo) {
        boolean amd = false;
        int family = 0;
        int phys = 0;
        for (String line : cpuinfo) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (key.equals("vendor_id")) {
                amd = value.equals("AuthenticAMD") || value.equals("HygonGenuine");
            } else if (key.equals("cpu family")) {
                family = Integer.parseInt(value);
            } else if (key.equals("address sizes")) {
                Matcher m = ADDRESS_SIZES.matcher(value);
                if (m.find()) {
                    phys = Integer.parseInt(m.group(1));
                }
                break;
            }
        }
        return new HostCpu(amd, family, phys);
    }

    /**
     * vm_compute_max_gfn() as a byte limit: the guest MAXPHYADDR, lowered on AMD hosts to stay below the 12 GiB
     * HyperTransport region (just under 1 TiB before family 17h, at the top of the host's physical address
     * space from 17h on). SME's address reduction (CPUID 0x8000001f) is not visible in /proc/cpuinfo and is
     * taken as 0.
     */
    long gpaLimit(int guestPhysBits, int paBits) {
        long limit = 1L << guestPhysBits;
        if (!amd || paBits < 40) {
            return limit;
        }
        long ht = 12L << 30;
        // The C code computes ht_gfn from max_pfn = 2^(bits-12) - 1, hence the extra page on 17h+.
        long htStart = family < 0x17 || physBits == 0 ? (1L << 40) - ht : (1L << physBits) - 4096 - ht;
        return Math.min(limit, htStart);
    }
}
