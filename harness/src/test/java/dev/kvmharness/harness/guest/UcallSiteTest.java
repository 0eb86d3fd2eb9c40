// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class UcallSiteTest {
    private static final Reg R0 = Reg.of(0);
    private static final Reg R1 = Reg.of(1);
    private static final Reg R2 = Reg.of(2);

    private static String render(String format, long... values) {
        Reg[] regs = new Reg[values.length];
        for (int i = 0; i < values.length; i++) {
            regs[i] = Reg.of(i);
        }
        return UcallSite.printf(format, List.of(regs)).render(values);
    }

    @Test
    void sixtyFourBitConversions() {
        assertThat(render("%lx %llx %lu %llu %ld %lld", -1, 0xabcL, -1, 42, -5, Long.MIN_VALUE))
                .isEqualTo("ffffffffffffffff abc 18446744073709551615 42 -5 -9223372036854775808");
    }

    @Test
    void unmodifiedConversionsTakeTheLow32BitsLikeAnInt() {
        assertThat(render("%d %u %x %X", 0x1_ffff_ffffL, 0x1_ffff_ffffL, 0x1_0000_00abL, 0xabL))
                .isEqualTo("-1 4294967295 ab AB");
    }

    @Test
    void widthZeroPaddingAndPercent() {
        assertThat(render("100%% at 0x%016lx, [%5d] [%05d]", 0xbeefL, 42, -42))
                .isEqualTo("100% at 0x000000000000beef, [   42] [-0042]");
    }

    @Test
    void unsupportedConversionsFailWhenTheSiteIsMade() {
        assertThatThrownBy(() -> UcallSite.printf("%s", List.of(R0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unsupported conversion '%s'");
        assertThatThrownBy(() -> UcallSite.printf("%lf", List.of(R0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unsupported");
        assertThatThrownBy(() -> UcallSite.printf("50%", List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> UcallSite.printf("%lllx", List.of(R0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unsupported");
    }

    @Test
    void conversionsMustMatchTheValueRegisters() {
        assertThatThrownBy(() -> UcallSite.abort("a=%lx b=%lx", List.of(R0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 conversion(s) but 1");
        assertThatThrownBy(() -> UcallSite.printf("none", List.of(R0)))
                .isInstanceOf(IllegalArgumentException.class);
        UcallSite s = UcallSite.printf("%lu", List.of(R1));
        assertThatThrownBy(() -> s.render(new long[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void syncStageIsAConstantOrARegister() {
        UcallSite constant = UcallSite.sync(3);
        assertThat(constant.kind()).isEqualTo(UcallKind.SYNC);
        assertThat(constant.values()).isEmpty();
        assertThat(constant.stage(new long[0])).isEqualTo(3);
        assertThat(constant.render(new long[0])).isEqualTo("sync");

        UcallSite reg = UcallSite.sync(R2);
        assertThat(reg.values()).containsExactly(R2);
        assertThat(reg.stage(new long[] {99})).isEqualTo(99);
        assertThat(reg.render(new long[] {99})).isEqualTo("sync");

        assertThat(UcallSite.done().stage(new long[0])).isZero();
        assertThat(UcallSite.done().render(new long[0])).isEqualTo("done");
    }

    @Test
    void syncSitesAreValidated() {
        assertThatThrownBy(() -> new UcallSite(UcallKind.SYNC, "sync", List.of(R0, R1), 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new UcallSite(UcallKind.SYNC, "sync", List.of(R0), 4))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new UcallSite(UcallKind.PRINTF, "x", List.of(), 4))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void valueListIsImmutable() {
        java.util.ArrayList<Reg> regs = new java.util.ArrayList<>(List.of(R0));
        UcallSite s = UcallSite.printf("%d", regs);
        regs.add(R1);
        assertThat(s.values()).containsExactly(R0);
        assertThatThrownBy(() -> s.values().add(R2)).isInstanceOf(UnsupportedOperationException.class);
    }
}
