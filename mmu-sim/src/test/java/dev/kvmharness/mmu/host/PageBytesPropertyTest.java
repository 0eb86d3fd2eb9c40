// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Any mix of accesses on a page reads back exactly what a plain 4 KiB array would hold. */
class PageBytesPropertyTest {
    record Op(int kind, int offset, int width, long value, int len) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        // Half the offsets and lengths stay within the first three words, so stores merge into, straddle and
        // leave a page's one written word (PageBytes.Word), and reads cross its edges.
        Arbitrary<Integer> offset = Arbitraries.oneOf(Arbitraries.integers().between(0, 4095),
                Arbitraries.integers().between(0, 23));
        Arbitrary<Integer> len = Arbitraries.oneOf(Arbitraries.integers().between(0, 4096),
                Arbitraries.integers().between(0, 16));
        Arbitrary<Long> value = Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.of(0L, 0x0123_4567_89ab_cdefL));
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 4), offset,
                Arbitraries.of(1, 2, 4, 8), value, len)
                .as(Op::new);
        return op.list().ofMaxSize(80);
    }

    @Property(tries = 1000)
    void pageContentsMatchAByteArray(@ForAll("ops") List<Op> ops) {
        PhysMem phys = new PhysMem();
        long pfn = phys.alloc(0);
        byte[] model = new byte[4096];
        for (Op op : ops) {
            int off = Math.min(op.offset(), 4096 - op.width());
            int len = Math.min(op.len(), 4096 - op.offset());
            switch (op.kind()) {
                case 0 -> {
                    phys.write(pfn, off, op.width(), op.value());
                    for (int i = 0; i < op.width(); i++) {
                        model[off + i] = (byte) (op.value() >>> (8 * i));
                    }
                }
                case 1 -> {
                    phys.fill(pfn, op.offset(), len, (byte) op.value());
                    Arrays.fill(model, op.offset(), op.offset() + len, (byte) op.value());
                }
                case 2 -> {
                    phys.fill(pfn, 0, 4096, (byte) (op.value() & 3));
                    Arrays.fill(model, (byte) (op.value() & 3));
                }
                case 3 -> {
                    byte[] src = new byte[len];
                    for (int i = 0; i < len; i++) {
                        src[i] = (byte) (op.value() >>> (i & 7));
                    }
                    phys.writeBytes(pfn, op.offset(), src, 0, len);
                    System.arraycopy(src, 0, model, op.offset(), len);
                }
                default -> {
                    long expected = 0;
                    for (int i = 0; i < op.width(); i++) {
                        expected |= (model[off + i] & 0xffL) << (8 * i);
                    }
                    assertThat(phys.read(pfn, off, op.width())).isEqualTo(expected);
                }
            }
        }
        byte[] all = new byte[4096];
        phys.readBytes(pfn, 0, all, 0, 4096);
        assertThat(all).isEqualTo(model);
    }
}
