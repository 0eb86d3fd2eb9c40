// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import com.sun.jna.Memory;
import dev.kvmharness.kvm.bindings.KvmStatsLayout;
import dev.kvmharness.sys.OwnedFd;
import dev.kvmharness.sys.Sys;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A binary stats fd (KVM_GET_STATS_FD on a VM or vCPU). The header, id string and descriptors are read
 * once when the fd is opened, as they never change; values are read with pread() of the data block, the way
 * the selftests' read_stat_data() does.
 */
public final class StatsFd extends OwnedFd {
    private final String id;
    private final int dataOffset;
    private final int dataSize;
    private final Map<String, StatDescriptor> descriptors;

    public StatsFd(int fd, String what) {
        super(fd, what);
        try {
            Memory header = new Memory(KvmStatsLayout.HEADER_SIZE);
            readFully(header, KvmStatsLayout.HEADER_SIZE, 0);
            int nameSize = header.getInt(KvmStatsLayout.HEADER_OFF_NAME_SIZE);
            int numDesc = header.getInt(KvmStatsLayout.HEADER_OFF_NUM_DESC);
            int idOffset = header.getInt(KvmStatsLayout.HEADER_OFF_ID_OFFSET);
            int descOffset = header.getInt(KvmStatsLayout.HEADER_OFF_DESC_OFFSET);
            this.dataOffset = header.getInt(KvmStatsLayout.HEADER_OFF_DATA_OFFSET);

            Memory idBuf = new Memory(nameSize);
            readFully(idBuf, nameSize, idOffset);
            this.id = cString(idBuf, 0, nameSize);

            int descStride = KvmStatsLayout.DESC_SIZE + nameSize;
            Memory descs = new Memory((long) descStride * Math.max(1, numDesc));
            readFully(descs, (long) descStride * numDesc, descOffset);
            Map<String, StatDescriptor> byName = new LinkedHashMap<>();
            int end = 0;
            for (int i = 0; i < numDesc; i++) {
                long o = (long) i * descStride;
                StatDescriptor d = new StatDescriptor(
                        cString(descs, o + KvmStatsLayout.DESC_OFF_NAME, nameSize),
                        descs.getInt(o + KvmStatsLayout.DESC_OFF_FLAGS),
                        descs.getShort(o + KvmStatsLayout.DESC_OFF_EXPONENT),
                        descs.getShort(o + KvmStatsLayout.DESC_OFF_SIZE) & 0xffff,
                        descs.getInt(o + KvmStatsLayout.DESC_OFF_OFFSET),
                        descs.getInt(o + KvmStatsLayout.DESC_OFF_BUCKET_SIZE));
                byName.put(d.name(), d);
                end = Math.max(end, d.offset() + 8 * d.size());
            }
            this.descriptors = Collections.unmodifiableMap(byName);
            this.dataSize = end;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void readFully(Memory buf, long len, long offset) {
        long done = 0;
        while (done < len) {
            long n = Sys.pread(fd(), buf.share(done), len - done, offset + done);
            if (n == 0) {
                throw new IllegalStateException(what() + ": short read at offset " + (offset + done));
            }
            done += n;
        }
    }

    private static String cString(Memory m, long offset, int max) {
        byte[] b = m.getByteArray(offset, max);
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.US_ASCII);
    }

    /** The header's id string, e.g. "kvm-1234" for a VM or "kvm-1234/vcpu-0" for a vCPU. */
    public String id() {
        return id;
    }

    /** Every stat's descriptor, in the kernel's order. */
    public List<StatDescriptor> descriptors() {
        return List.copyOf(descriptors.values());
    }

    public StatDescriptor descriptor(String name) {
        StatDescriptor d = descriptors.get(name);
        if (d == null) {
            throw new NoSuchElementException(what() + " has no stat named '" + name + "'");
        }
        return d;
    }

    public boolean has(String name) {
        return descriptors.containsKey(name);
    }

    /** All values of one stat (one element for scalars, the buckets for histograms). */
    public long[] read(String name) {
        StatDescriptor d = descriptor(name);
        Memory buf = new Memory(8L * d.size());
        readFully(buf, 8L * d.size(), (long) dataOffset + d.offset());
        return buf.getLongArray(0, d.size());
    }

    /** The first value of a stat, what vm_get_stat() returns in the selftests. */
    public long readValue(String name) {
        return read(name)[0];
    }

    /** Every stat, read with a single pread() of the data block so the values are one snapshot. */
    public Map<String, long[]> readAll() {
        Map<String, long[]> out = new LinkedHashMap<>();
        if (dataSize == 0) {
            return out;
        }
        Memory data = new Memory(dataSize);
        readFully(data, dataSize, dataOffset);
        for (StatDescriptor d : descriptors.values()) {
            out.put(d.name(), data.getLongArray(d.offset(), d.size()));
        }
        return out;
    }
}
