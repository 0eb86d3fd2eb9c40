// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.HostPages;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.host.HostMm;

/**
 * {@link HostPages} on the simulator: the simulated host mm's {@code /proc/self/pagemap} and
 * {@code /sys/kernel/mm/page_idle/bitmap} ({@link HostMm#pagemap()}, {@link HostMm#pageIdle()}), read as a process
 * with CAP_SYS_ADMIN reads them. Marking a page idle goes through the mm's reverse map and MMU notifiers to KVM's
 * aging, in virtual time on the calling simulated thread.
 */
final class SimHostPages implements HostPages {
    private final HostMm mm;

    SimHostPages(HostMm mm) {
        this.mm = mm;
    }

    @Override
    public long pagemapEntry(long hva) {
        long offset = Long.divideUnsigned(hva, PAGE_SIZE) * 8;
        try {
            return mm.pagemap().read(offset);
        } catch (SimKvmException e) {
            throw failed("pagemap", offset, e);
        }
    }

    @Override
    public long readIdleBitmap(long index) {
        try {
            return mm.pageIdle().read(index * 8);
        } catch (SimKvmException e) {
            throw failed("page_idle", index * 8, e);
        }
    }

    @Override
    public void writeIdleBitmap(long index, long bits) {
        try {
            mm.pageIdle().write(index * 8, bits);
        } catch (SimKvmException e) {
            throw new TestAssertionFailure("pwrite(page_idle_fd, &bits, 8, 8 * (pfn / 64)) == 8",
                    String.format("Set page_idle bits for PFN 0x%x", index * 64 + Long.numberOfTrailingZeros(bits)), e);
        }
    }

    private static TestAssertionFailure failed(String name, long offset, SimKvmException e) {
        return new TestAssertionFailure("pread(fd, &value, sizeof(value), offset) == sizeof(value)",
                String.format("pread from %s offset 0x%x failed!", name, offset), e);
    }
}
