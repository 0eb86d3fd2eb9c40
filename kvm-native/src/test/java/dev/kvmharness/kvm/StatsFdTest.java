// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import dev.kvmharness.kvm.bindings.KvmStatsLayout;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Sys;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The binary stats parser on a synthetic stats file in a memfd, laid out as api.rst describes (header, id
 * string, descriptors with name_size-byte names, data block), so parsing is checked without KVM.
 */
class StatsFdTest {
    private static final int NAME_SIZE = 48;

    private static void putName(Memory m, long off, String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        m.write(off, b, 0, b.length);
    }

    /** flags = type | unit << 4 | base << 8. */
    private static int flags(int type, int unit, int base) {
        return type | unit << KvmStatsLayout.UNIT_SHIFT | base << KvmStatsLayout.BASE_SHIFT;
    }

    private static int statsFile() {
        int numDesc = 4;
        int idOffset = KvmStatsLayout.HEADER_SIZE;
        int descOffset = idOffset + NAME_SIZE;
        int descStride = KvmStatsLayout.DESC_SIZE + NAME_SIZE;
        int dataOffset = descOffset + numDesc * descStride;
        int dataSize = 8 * (1 + 1 + 1 + 4);
        Memory m = new Memory(dataOffset + dataSize);
        m.clear();
        m.setInt(KvmStatsLayout.HEADER_OFF_NAME_SIZE, NAME_SIZE);
        m.setInt(KvmStatsLayout.HEADER_OFF_NUM_DESC, numDesc);
        m.setInt(KvmStatsLayout.HEADER_OFF_ID_OFFSET, idOffset);
        m.setInt(KvmStatsLayout.HEADER_OFF_DESC_OFFSET, descOffset);
        m.setInt(KvmStatsLayout.HEADER_OFF_DATA_OFFSET, dataOffset);
        putName(m, idOffset, "kvm-4242/vcpu-3");
        Object[][] descs = {
            {"remote_tlb_flush", flags(0, 0, 0), 0, 1, 0, 0},
            {"pages_4k", flags(1, 0, 0), 0, 1, 8, 0},
            {"halt_wait_ns", flags(0, 2, 0), -9, 1, 16, 0},
            {"halt_wait_hist", flags(4, 2, 0), -9, 4, 24, 0},
        };
        for (int i = 0; i < descs.length; i++) {
            long o = descOffset + (long) i * descStride;
            m.setInt(o + KvmStatsLayout.DESC_OFF_FLAGS, (Integer) descs[i][1]);
            m.setShort(o + KvmStatsLayout.DESC_OFF_EXPONENT, ((Integer) descs[i][2]).shortValue());
            m.setShort(o + KvmStatsLayout.DESC_OFF_SIZE, ((Integer) descs[i][3]).shortValue());
            m.setInt(o + KvmStatsLayout.DESC_OFF_OFFSET, (Integer) descs[i][4]);
            m.setInt(o + KvmStatsLayout.DESC_OFF_BUCKET_SIZE, (Integer) descs[i][5]);
            putName(m, o + KvmStatsLayout.DESC_OFF_NAME, (String) descs[i][0]);
        }
        long[] data = {17, 512, 123456789, 1, 2, 3, 4};
        for (int i = 0; i < data.length; i++) {
            m.setLong(dataOffset + 8L * i, data[i]);
        }
        int fd = Sys.memfdCreate("stats", LibC.MFD_CLOEXEC);
        LibC.write(fd, m, m.size());
        return fd;
    }

    @Test
    void parsesHeaderDescriptorsAndValues() {
        try (StatsFd stats = new StatsFd(statsFile(), "synthetic stats")) {
            assertThat(stats.id()).isEqualTo("kvm-4242/vcpu-3");
            assertThat(stats.descriptors()).extracting(StatDescriptor::name)
                    .containsExactly("remote_tlb_flush", "pages_4k", "halt_wait_ns", "halt_wait_hist");
            assertThat(stats.descriptor("pages_4k").type()).isEqualTo(StatDescriptor.Type.INSTANT);
            StatDescriptor wait = stats.descriptor("halt_wait_ns");
            assertThat(wait.unit()).isEqualTo(StatDescriptor.Unit.SECONDS);
            assertThat(wait.exponent()).isEqualTo(-9);
            assertThat(wait.base()).isEqualTo(10);
            StatDescriptor hist = stats.descriptor("halt_wait_hist");
            assertThat(hist.type()).isEqualTo(StatDescriptor.Type.LOG_HIST);
            assertThat(hist.isHistogram()).isTrue();
            assertThat(stats.readValue("remote_tlb_flush")).isEqualTo(17);
            assertThat(stats.readValue("pages_4k")).isEqualTo(512);
            assertThat(stats.read("halt_wait_hist")).containsExactly(1, 2, 3, 4);
            assertThat(stats.readAll()).containsOnlyKeys("remote_tlb_flush", "pages_4k", "halt_wait_ns", "halt_wait_hist");
            assertThat(stats.readAll().get("halt_wait_ns")).containsExactly(123456789L);
        }
    }
}
