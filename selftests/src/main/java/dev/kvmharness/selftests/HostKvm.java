// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What this host's KVM is, read from sysfs and procfs: the vendor module (kvm_intel, kvm_amd, or another
 * kvm_* module such as kvm_pvm), kvm.tdp_mmu, kvm_intel.ept / kvm_amd.npt, and the kernel release. From them,
 * the paging mode KVM runs guests with, which decides which simulator stats can match at all.
 *
 * @param vendor the loaded vendor module, or "none"
 * @param tdpMmu kvm.tdp_mmu (Y/N), or null if the parameter is absent
 * @param twoDimensionalPaging kvm_intel.ept or kvm_amd.npt (Y/N), or null if the vendor has no such parameter
 * @param kernel the kernel release (uname -r)
 */
public record HostKvm(String vendor, String tdpMmu, String twoDimensionalPaging, String kernel) {

    /** How KVM maps guest memory on this host. */
    public enum Paging {
        /** EPT/NPT with the TDP MMU: what the simulator models. */
        TDP_MMU,
        /** EPT/NPT with the older shadow-MMU code doing direct maps (kvm.tdp_mmu=N). */
        TDP_LEGACY_MMU,
        /** Shadow paging: no EPT/NPT (or a paravirtual vendor such as PVM, which always shadows). */
        SHADOW
    }

    /** Reads the running host. */
    public static HostKvm detect() {
        return detect(Path.of("/"));
    }

    /** Reads {@code root}/sys/module and {@code root}/proc/sys/kernel/osrelease (a fake tree in tests). */
    public static HostKvm detect(Path root) {
        Path modules = root.resolve("sys/module");
        String vendor = "none";
        if (Files.isDirectory(modules.resolve("kvm_intel"))) {
            vendor = "kvm_intel";
        } else if (Files.isDirectory(modules.resolve("kvm_amd"))) {
            vendor = "kvm_amd";
        } else if (Files.isDirectory(modules)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(modules, "kvm_*")) {
                for (Path p : ds) {
                    vendor = p.getFileName().toString();
                    break;
                }
            } catch (IOException e) {
                // No listing: no vendor we can name.
            }
        }
        String tdp = read(modules.resolve("kvm/parameters/tdp_mmu"));
        String twoD = switch (vendor) {
            case "kvm_intel" -> read(modules.resolve("kvm_intel/parameters/ept"));
            case "kvm_amd" -> read(modules.resolve("kvm_amd/parameters/npt"));
            default -> null;
        };
        String kernel = read(root.resolve("proc/sys/kernel/osrelease"));
        return new HostKvm(vendor, tdp, twoD, kernel == null ? "unknown" : kernel);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean yes(String v) {
        return v != null && (v.equals("Y") || v.equals("1") || v.equalsIgnoreCase("y"));
    }

    public Paging paging() {
        boolean twoD = (vendor.equals("kvm_intel") || vendor.equals("kvm_amd")) && yes(twoDimensionalPaging);
        if (!twoD) {
            return Paging.SHADOW;
        }
        return tdpMmu == null || yes(tdpMmu) ? Paging.TDP_MMU : Paging.TDP_LEGACY_MMU;
    }

    /**
     * The simulator policy whose fault locking matches this host's MMU: the TDP MMU handles faults under mmu_lock
     * held for read ({@code current}); the legacy MMU and shadow paging (direct_page_fault / FNAME(page_fault) before
     * the TDP MMU) take it for write ({@code pre-tdp}).
     */
    public String simPolicy() {
        return paging() == Paging.TDP_MMU ? "current" : "pre-tdp";
    }

    /** One line for reports, e.g. "kvm_pvm, shadow paging (kvm.tdp_mmu=N), kernel 6.18.44". */
    public String describe() {
        String params = "kvm.tdp_mmu=" + (tdpMmu == null ? "absent" : tdpMmu)
                + (twoDimensionalPaging == null ? "" : ", " + (vendor.equals("kvm_amd") ? "npt=" : "ept=") + twoDimensionalPaging);
        String mode = switch (paging()) {
            case TDP_MMU -> "TDP MMU";
            case TDP_LEGACY_MMU -> "EPT/NPT with the legacy MMU";
            case SHADOW -> "shadow paging";
        };
        return vendor + ", " + mode + " (" + params + "), kernel " + kernel;
    }

    /** A file-name-safe kind, e.g. "kvm_pvm-shadow": what a fitted cost model is named after. */
    public String kind() {
        return vendor + "-" + paging().name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vendor_module", vendor);
        m.put("tdp_mmu", tdpMmu);
        m.put(vendor.equals("kvm_amd") ? "npt" : "ept", twoDimensionalPaging);
        m.put("kernel", kernel);
        m.put("paging", paging().name().toLowerCase(Locale.ROOT));
        m.put("kind", kind());
        m.put("sim_policy", simPolicy());
        m.put("description", describe());
        return m;
    }
}
