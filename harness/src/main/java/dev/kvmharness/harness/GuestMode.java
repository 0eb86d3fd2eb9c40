// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * A guest paging mode (enum vm_guest_mode, lib/guest_modes.c). x86-64 has one: 4-level paging with 4K base
 * pages and whatever physical address width the host CPUID reports.
 */
public enum GuestMode {
    PXXV48_4K("PA-bits:ANY, VA-bits:48,  4K pages", 4096, 48);

    private final String label;
    private final long pageSize;
    private final int vaBits;

    GuestMode(String label, long pageSize, int vaBits) {
        this.label = label;
        this.pageSize = pageSize;
        this.vaBits = vaBits;
    }

    /** vm_guest_mode_string(): the label printed by "Testing guest mode: ...". */
    public String label() {
        return label;
    }

    public long pageSize() {
        return pageSize;
    }

    public int vaBits() {
        return vaBits;
    }

    /** Parses -m: the mode's index in the C enum (8 = PXXV48_4K on x86) or its name. */
    public static GuestMode parse(String arg) {
        String a = arg.trim();
        if (a.equals("8") || a.equalsIgnoreCase(PXXV48_4K.name())) {
            return PXXV48_4K;
        }
        throw new IllegalArgumentException("Guest mode ID " + arg + " not supported (x86-64 supports 8: " + PXXV48_4K.label + ")");
    }
}
