// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** -m as guest_modes_cmdline() reads it, for every memstress port. */
class GuestModeTest {
    @Test
    void withoutDashMTheDefaultModeRuns() {
        assertThat(GuestMode.fromCmdline(List.of())).containsExactly(GuestMode.PXXV48_4K);
    }

    @Test
    void aModeEnabledTwiceRunsOnce() {
        assertThat(GuestMode.fromCmdline(List.of("9", "PXXV48_4K"))).containsExactly(GuestMode.PXXV48_4K);
    }

    @Test
    void anotherArchitecturesModeIsRefusedByNumber() {
        assertThatThrownBy(() -> GuestMode.fromCmdline(List.of("9", "3")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Guest mode ID 3 not supported");
        assertThatThrownBy(() -> GuestMode.fromCmdline(List.of("16")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Guest mode ID 16 too big");
    }
}
