// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The contents of one 4 KiB page frame (what {@code kmap_local_page()} would let the kernel see), stored as
 * compactly as the writes allow. A slot is {@code null} while the page reads as zeroes; a {@link Byte} (the
 * JDK's shared cached instance) when every byte has that value, as after a UFFDIO_COPY from a prototype
 * page filled with one pattern; a {@link Word} while all its non-zero bytes lie in one aligned 8-byte word
 * (selftests typically store one word per page, most often the same value at the same offset, so the pages
 * share one immutable instance); a sparse {@code byte[64][]} of 64-byte cache lines while few lines were
 * written (a full 4 KiB array per page would turn a 128 GiB guest into 128 GiB of heap); and a dense
 * {@code byte[4096]} once most of the page was written. Little-endian like x86.
 */
final class PageBytes {
    static final int PAGE_SIZE = 4096;
    private static final int LINE_SHIFT = 6;
    private static final int LINE = 1 << LINE_SHIFT;
    private static final int LINES = PAGE_SIZE / LINE;
    /** A sparse page holding more lines than this becomes dense: past half, lines cost more than the array. */
    private static final int DENSE_AFTER_LINES = LINES / 2;

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * A page that is zero except for the aligned 8-byte word at {@code off}. Immutable: a store makes a new one,
     * and consecutive pages written alike get the same instance ({@link #word}).
     */
    record Word(int off, long value) {
        /** The little-endian bytes [at, at + width) of the page, for an access inside this word. */
        long get(int at, int width) {
            long v = value >>> (8 * (at - off));
            return width == 8 ? v : v & ((1L << (8 * width)) - 1);
        }

        byte byteAt(int at) {
            return at >= off && at < off + 8 ? (byte) (value >>> (8 * (at - off))) : 0;
        }
    }

    /** The last word page made: the next page written alike shares it. Immutable, so any thread may read it. */
    private static Word lastWord;

    private PageBytes() {
    }

    /** The word page (off, value), shared with the last one made if equal; null (a zero page) for value 0. */
    private static Word word(int off, long value) {
        if (value == 0) {
            return null;
        }
        Word w = lastWord;
        if (w != null && w.off == off && w.value == value) {
            return w;
        }
        w = new Word(off, value);
        lastWord = w;
        return w;
    }

    /** The lines form of a word page, for a store the word form cannot hold. */
    private static byte[][] lines(Word w) {
        byte[][] lines = new byte[LINES][];
        put(line(lines, w.off >>> LINE_SHIFT), w.off & (LINE - 1), 8, w.value);
        return lines;
    }

    private static boolean inOneWord(int off, int width) {
        return (off >>> 3) == ((off + width - 1) >>> 3);
    }

    static long read(Object page, int off, int width) {
        if (page == null) {
            return 0;
        }
        if (page instanceof Byte b) {
            long v = (b & 0xffL) * 0x0101_0101_0101_0101L;
            return width == 8 ? v : v & ((1L << (8 * width)) - 1);
        }
        if (page instanceof byte[] dense) {
            return get(dense, off, width);
        }
        if (page instanceof Word w) {
            if (off >= w.off && off + width <= w.off + 8) {
                return w.get(off, width);
            }
            long v = 0;
            for (int i = 0; i < width; i++) {
                v |= (w.byteAt(off + i) & 0xffL) << (8 * i);
            }
            return v;
        }
        byte[][] lines = (byte[][]) page;
        if ((off >>> LINE_SHIFT) == ((off + width - 1) >>> LINE_SHIFT)) {
            byte[] line = lines[off >>> LINE_SHIFT];
            return line == null ? 0 : get(line, off & (LINE - 1), width);
        }
        long v = 0;
        for (int i = 0; i < width; i++) {
            v |= (sparseByte(lines, off + i) & 0xffL) << (8 * i);
        }
        return v;
    }

    /** Returns the slot's new value: the page may have been created or made dense. */
    static Object write(Object page, int off, int width, long value) {
        if ((page == null || page instanceof Word) && inOneWord(off, width)) {
            int base = off & ~7;
            Word w = (Word) page;
            if (w == null || w.off == base) {
                long mask = width == 8 ? -1L : ((1L << (8 * width)) - 1) << (8 * (off - base));
                long old = w == null ? 0 : w.value;
                return word(base, (old & ~mask) | ((value << (8 * (off - base))) & mask));
            }
        }
        if (page instanceof Word w) {
            page = lines(w);
        }
        if (page instanceof Byte b) {
            page = uniform(b);
        }
        if (page instanceof byte[] dense) {
            put(dense, off, width, value);
            return dense;
        }
        byte[][] lines = page == null ? new byte[LINES][] : (byte[][]) page;
        if ((off >>> LINE_SHIFT) == ((off + width - 1) >>> LINE_SHIFT)) {
            boolean fresh = lines[off >>> LINE_SHIFT] == null;
            put(line(lines, off >>> LINE_SHIFT), off & (LINE - 1), width, value);
            if (!fresh) {
                return lines; // the common store into an existing line: no density check
            }
        } else {
            for (int i = 0; i < width; i++) {
                line(lines, (off + i) >>> LINE_SHIFT)[(off + i) & (LINE - 1)] = (byte) (value >>> (8 * i));
            }
        }
        return densifyIfFull(lines);
    }

    static void readBytes(Object page, int off, byte[] dst, int dstOff, int len) {
        if (page == null) {
            Arrays.fill(dst, dstOff, dstOff + len, (byte) 0);
        } else if (page instanceof Byte b) {
            Arrays.fill(dst, dstOff, dstOff + len, b);
        } else if (page instanceof byte[] dense) {
            System.arraycopy(dense, off, dst, dstOff, len);
        } else if (page instanceof Word w) {
            for (int i = 0; i < len; i++) {
                dst[dstOff + i] = w.byteAt(off + i);
            }
        } else {
            byte[][] lines = (byte[][]) page;
            for (int done = 0; done < len;) {
                int at = off + done;
                int n = Math.min(len - done, LINE - (at & (LINE - 1)));
                byte[] line = lines[at >>> LINE_SHIFT];
                if (line == null) {
                    Arrays.fill(dst, dstOff + done, dstOff + done + n, (byte) 0);
                } else {
                    System.arraycopy(line, at & (LINE - 1), dst, dstOff + done, n);
                }
                done += n;
            }
        }
    }

    static Object writeBytes(Object page, int off, byte[] src, int srcOff, int len) {
        if (off == 0 && len == PAGE_SIZE) {
            byte first = src[srcOff];
            int i = 1;
            while (i < PAGE_SIZE && src[srcOff + i] == first) {
                i++;
            }
            if (i == PAGE_SIZE) {
                return first == 0 ? null : Byte.valueOf(first);
            }
            return Arrays.copyOfRange(src, srcOff, srcOff + PAGE_SIZE);
        }
        if (page instanceof Word w) {
            page = lines(w);
        }
        if (page instanceof Byte b) {
            page = uniform(b);
        }
        if (page instanceof byte[] dense) {
            System.arraycopy(src, srcOff, dense, off, len);
            return dense;
        }
        byte[][] lines = page == null ? new byte[LINES][] : (byte[][]) page;
        for (int done = 0; done < len;) {
            int at = off + done;
            int n = Math.min(len - done, LINE - (at & (LINE - 1)));
            System.arraycopy(src, srcOff + done, line(lines, at >>> LINE_SHIFT), at & (LINE - 1), n);
            done += n;
        }
        return densifyIfFull(lines);
    }

    static Object fill(Object page, int off, int len, byte value) {
        if (off == 0 && len == PAGE_SIZE) {
            return value == 0 ? null : Byte.valueOf(value); // a page of one value costs nothing
        }
        if (page == null && value == 0) {
            return null;
        }
        if (page instanceof Word w) {
            page = lines(w);
        }
        if (page instanceof Byte b) {
            if (b == value) {
                return page;
            }
            page = uniform(b);
        }
        if (page instanceof byte[] dense) {
            Arrays.fill(dense, off, off + len, value);
            return dense;
        }
        byte[][] lines = page == null ? new byte[LINES][] : (byte[][]) page;
        for (int done = 0; done < len;) {
            int at = off + done;
            int n = Math.min(len - done, LINE - (at & (LINE - 1)));
            int li = at >>> LINE_SHIFT;
            if (value != 0 || lines[li] != null) {
                Arrays.fill(line(lines, li), at & (LINE - 1), (at & (LINE - 1)) + n, value);
            }
            done += n;
        }
        return densifyIfFull(lines);
    }

    /** Rough heap bytes the slot's contents use (compressed oops, 16-byte array headers). */
    static long footprint(Object page) {
        if (page == null || page instanceof Byte) {
            return 0;
        }
        if (page instanceof byte[] dense) {
            return 16L + dense.length;
        }
        if (page instanceof Word) {
            return 24; // an upper bound: pages written alike share one instance
        }
        long bytes = 16L + 4L * LINES;
        for (byte[] line : (byte[][]) page) {
            if (line != null) {
                bytes += 16 + LINE;
            }
        }
        return bytes;
    }

    private static byte[] uniform(byte b) {
        byte[] dense = new byte[PAGE_SIZE];
        Arrays.fill(dense, b);
        return dense;
    }

    private static byte[] line(byte[][] lines, int index) {
        byte[] line = lines[index];
        if (line == null) {
            line = new byte[LINE];
            lines[index] = line;
        }
        return line;
    }

    private static byte sparseByte(byte[][] lines, int off) {
        byte[] line = lines[off >>> LINE_SHIFT];
        return line == null ? 0 : line[off & (LINE - 1)];
    }

    private static Object densifyIfFull(byte[][] lines) {
        int used = 0;
        for (byte[] line : lines) {
            if (line != null) {
                used++;
            }
        }
        if (used <= DENSE_AFTER_LINES) {
            return lines;
        }
        byte[] dense = new byte[PAGE_SIZE];
        for (int i = 0; i < LINES; i++) {
            if (lines[i] != null) {
                System.arraycopy(lines[i], 0, dense, i * LINE, LINE);
            }
        }
        return dense;
    }

    private static long get(byte[] a, int off, int width) {
        switch (width) {
            case 1:
                return a[off] & 0xffL;
            case 2:
                return (short) SHORT.get(a, off) & 0xffffL;
            case 4:
                return (int) INT.get(a, off) & 0xffff_ffffL;
            default:
                return (long) LONG.get(a, off);
        }
    }

    private static void put(byte[] a, int off, int width, long v) {
        switch (width) {
            case 1:
                a[off] = (byte) v;
                break;
            case 2:
                SHORT.set(a, off, (short) v);
                break;
            case 4:
                INT.set(a, off, (int) v);
                break;
            default:
                LONG.set(a, off, v);
                break;
        }
    }
}
