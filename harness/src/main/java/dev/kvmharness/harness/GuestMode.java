// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A guest paging mode (enum vm_guest_mode, lib/guest_modes.c). x86-64 has one: 4-level paging with 4K base
 * pages and whatever physical address width the host CPUID reports.
 */
public enum GuestMode {
    PXXV48_4K("PA-bits:ANY, VA-bits:48,  4K pages", 4096, 48),
    /**
     * 5-level paging (CR4.LA57), which a guest needs to identity map more than 128 TiB; not in 6.12's enum
     * (so -m does not accept it), used by the simulator's --maxphyaddr 52 runs.
     */
    PXXV57_4K("PA-bits:ANY, VA-bits:57,  4K pages", 4096, 57);

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

    /** VM_MODE_PXXV48_4K's index in the C enum vm_guest_mode. */
    public static final int PXXV48_4K_ID = 9;
    /** NUM_VM_MODES. */
    public static final int NUM_VM_MODES = 16;

    /**
     * Parses -m: the mode's index in the C enum vm_guest_mode (9 = PXXV48_4K, the one x86-64 mode) or its
     * name. IDs of modes other architectures have are rejected as unsupported, like for_each_guest_mode().
     */
    public static GuestMode parse(String arg) {
        String a = arg.trim();
        if (a.equalsIgnoreCase(PXXV48_4K.name())) {
            return PXXV48_4K;
        }
        int id = TestUtil.atoiNonNegative("Guest mode ID", a);
        if (id >= NUM_VM_MODES) {
            throw new IllegalArgumentException("Guest mode ID " + id + " too big");
        }
        if (id != PXXV48_4K_ID) {
            throw new IllegalArgumentException("Guest mode ID " + id + " not supported (x86-64 supports "
                    + PXXV48_4K_ID + ": " + PXXV48_4K.label + ")");
        }
        return PXXV48_4K;
    }

    /**
     * guest_modes_cmdline() over all of a test's -m arguments: each enables a mode, enabling one twice runs it
     * once, and without any the default mode runs. The modes in enum order.
     */
    public static List<GuestMode> fromCmdline(List<String> args) {
        Set<GuestMode> enabled = EnumSet.noneOf(GuestMode.class);
        for (String s : args) {
            enabled.add(parse(s));
        }
        return enabled.isEmpty() ? List.of(PXXV48_4K) : List.copyOf(enabled);
    }
}
