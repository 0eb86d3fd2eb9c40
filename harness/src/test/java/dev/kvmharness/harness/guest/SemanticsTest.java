// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The reference semantics that a simulator uses and the x86 lowering must match. */
class SemanticsTest {
    private static final long[] SAMPLES = {0, 1, 2, 63, 64, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL,
        Long.MAX_VALUE, Long.MIN_VALUE, -2, -1};

    @Test
    void negatedConditionsHoldExactlyWhenTheOriginalDoesNot() {
        for (Cond c : Cond.values()) {
            assertThat(c.negate().negate()).isEqualTo(c);
            for (long a : SAMPLES) {
                for (long b : SAMPLES) {
                    assertThat(c.negate().test(a, b)).as("%s %x %x", c, a, b).isEqualTo(!c.test(a, b));
                }
            }
        }
    }

    @Test
    void orderedComparisonsAreUnsigned() {
        assertThat(Cond.ULT.test(1, -1)).isTrue();
        assertThat(Cond.UGT.test(Long.MIN_VALUE, Long.MAX_VALUE)).isTrue();
        assertThat(Cond.ULE.test(5, 5)).isTrue();
        assertThat(Cond.UGE.test(0, 1)).isFalse();
    }

    @Test
    void arithmeticWrapsAndShiftsCountModulo64() {
        assertThat(AluOp.ADD.apply(-1, 1)).isZero();
        assertThat(AluOp.SUB.apply(0, 1)).isEqualTo(-1);
        assertThat(AluOp.MUL.apply(0x1_0000_0001L, 0x1_0000_0001L)).isEqualTo(0x2_0000_0001L);
        assertThat(AluOp.UDIV.apply(-1, 2)).isEqualTo(Long.MAX_VALUE);
        assertThat(AluOp.UREM.apply(-1, 10)).isEqualTo(5);
        assertThat(AluOp.SHL.apply(1, 65)).isEqualTo(2);
        assertThat(AluOp.SHR.apply(-1, 63)).isEqualTo(1);
        assertThat(AluOp.SHR.apply(-1, 64)).isEqualTo(-1);
        assertThat(AluOp.AND.apply(0xf0, 0x3c)).isEqualTo(0x30);
        assertThat(AluOp.OR.apply(0xf0, 0x0f)).isEqualTo(0xff);
        assertThat(AluOp.XOR.apply(0xff, 0x0f)).isEqualTo(0xf0);
        assertThatThrownBy(() -> AluOp.UDIV.apply(1, 0)).isInstanceOf(ArithmeticException.class);
        assertThatThrownBy(() -> AluOp.UREM.apply(1, 0)).isInstanceOf(ArithmeticException.class);
    }

    @Test
    void loadsZeroExtend() {
        assertThat(Width.BYTE.truncate(-1)).isEqualTo(0xff);
        assertThat(Width.WORD.truncate(-1)).isEqualTo(0xffff);
        assertThat(Width.DWORD.truncate(-1)).isEqualTo(0xffff_ffffL);
        assertThat(Width.QWORD.truncate(-1)).isEqualTo(-1);
        assertThat(Width.DWORD.bytes()).isEqualTo(4);
    }

    @Test
    void registersAreIndexedZeroToTwelve() {
        assertThat(Reg.of(12).index()).isEqualTo(12);
        assertThat(Reg.of(3)).isSameAs(Reg.of(3)).isEqualTo(new Reg(3));
        assertThat(Reg.of(5).isArgumentRegister()).isTrue();
        assertThat(Reg.of(6).isArgumentRegister()).isFalse();
        assertThat(Reg.of(7)).hasToString("r7");
        assertThatThrownBy(() -> Reg.of(13)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Reg(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
