// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

/** parse_size(), atoi_*() and kvm_parse_vcpu_pinning() with the C library's accepted syntax. */
class TestUtilTest {

    @Test
    void parseSizeAcceptsTheCSuffixes() {
        assertThat(TestUtil.parseSize("10M")).isEqualTo(10L << 20);
        assertThat(TestUtil.parseSize("3G")).isEqualTo(3L << 30);
        assertThat(TestUtil.parseSize("3g")).isEqualTo(3L << 30);
        assertThat(TestUtil.parseSize("4k")).isEqualTo(4096);
        assertThat(TestUtil.parseSize("2T")).isEqualTo(2L << 40);
        assertThat(TestUtil.parseSize("512b")).isEqualTo(512);
        assertThat(TestUtil.parseSize("4096")).isEqualTo(4096);
        assertThat(TestUtil.parseSize("0x1000")).isEqualTo(4096);
        assertThat(TestUtil.parseSize("010")).isEqualTo(8);
        // Only the first letter after the number counts, as in C.
        assertThat(TestUtil.parseSize("64MB")).isEqualTo(64L << 20);
    }

    @Test
    void parseSizeRejectsGarbageAndOverflow() {
        assertThatThrownBy(() -> TestUtil.parseSize("M")).hasMessageContaining("Need at least one digit");
        assertThatThrownBy(() -> TestUtil.parseSize("10Q")).hasMessageContaining("Unknown size letter q");
        assertThatThrownBy(() -> TestUtil.parseSize("99999999999T")).hasMessageContaining("Overflow scaling size!");
        assertThatThrownBy(() -> TestUtil.parseSize("99999999999999999999")).hasMessageContaining("Overflow parsing size!");
    }

    @Test
    void atoiVariants() {
        assertThat(TestUtil.atoiPositive("Number of vCPUs", "4")).isEqualTo(4);
        assertThat(TestUtil.atoiParanoid("0x10")).isEqualTo(16);
        assertThatThrownBy(() -> TestUtil.atoiPositive("Number of vCPUs", "0")).hasMessageContaining("must be greater than 0");
        assertThatThrownBy(() -> TestUtil.atoiParanoid("4x")).hasMessageContaining("didn't find a valid integer");
        assertThatThrownBy(() -> TestUtil.atoiParanoid("99999999999")).hasMessageContaining("not in range");
        assertThatThrownBy(() -> TestUtil.atoiNonNegative("CPU number", "-1")).hasMessageContaining("non-negative");
    }

    /** A value that is no int at all names the option it was given for, as a too-small one does. */
    @Test
    void atoiOfANamedValueNamesItWhenItIsNoNumber() {
        assertThatThrownBy(() -> TestUtil.atoiPositive("Number of vCPUs", "abc"))
                .hasMessage("Number of vCPUs: strtol(\"abc\") didn't find a valid integer.");
        assertThatThrownBy(() -> TestUtil.atoiPositive("Number of iterations", "99999999999"))
                .hasMessageStartingWith("Number of iterations: 99999999999 not in range");
        assertThatThrownBy(() -> TestUtil.atoiNonNegative("CPU number", "x")).hasMessageStartingWith("CPU number: ");
    }

    @Test
    void vcpuPinningOnePcpuPerVcpuPlusOptionalMain() {
        BitSet allowed = new BitSet();
        allowed.set(0, 4);
        TestUtil.VcpuPinning p = TestUtil.parseVcpuPinning("2,3,1", 2, allowed);
        assertThat(p.vcpuToPcpu()).containsExactly(2, 3);
        assertThat(p.mainPcpu()).isEqualTo(1);
        assertThat(TestUtil.parseVcpuPinning("0,1", 2, allowed).mainPcpu()).isNull();
        assertThatThrownBy(() -> TestUtil.parseVcpuPinning("0", 2, allowed)).hasMessageContaining("pCPU not provided for vCPU '1'");
        assertThatThrownBy(() -> TestUtil.parseVcpuPinning("0,7", 2, allowed)).hasMessageContaining("Not allowed to run on pCPU '7'");
        assertThatThrownBy(() -> TestUtil.parseVcpuPinning("0,1,2,3", 2, allowed)).hasMessageContaining("trailing garbage");
    }
}
