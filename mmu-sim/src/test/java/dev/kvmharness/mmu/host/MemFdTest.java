// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static dev.kvmharness.mmu.host.HostMmTest.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.Sims;
import org.junit.jupiter.api.Test;

class MemFdTest {
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;

    private final PhysMem phys = new PhysMem();

    @Test
    void sizeAndPageSizeAreChecked() {
        assertErrno(() -> new MemFd(phys, "x", 3 * K4, M2), "ftruncate", KvmErrno.EINVAL);
        assertErrno(() -> new MemFd(phys, "x", 0, K4), "ftruncate", KvmErrno.EINVAL);
        assertErrno(() -> new MemFd(phys, "x", M2, 64 * 1024), "memfd_create", KvmErrno.EINVAL);
        MemFd f = new MemFd(phys, "ok", 6 * M2, M2);
        assertThat(f.isHugetlb()).isTrue();
        assertThat(f.size()).isEqualTo(6 * M2);
        assertThat(f.pageSize()).isEqualTo(M2);
        assertThat(f.cachedPages()).isZero();
        assertThat(phys.livePages()).isZero();
    }

    @Test
    void pagesAreCreatedOnFirstTouchAndConsecutiveWithinA2MWindow() {
        MemFd f = new MemFd(phys, "shm", 4 * M2, K4);
        assertThat(f.pfnAt(5 * K4)).isEqualTo(-1);
        long p5 = f.create(5);
        long p7 = f.create(7);
        assertThat(p7).isEqualTo(p5 + 2);
        assertThat(f.pfnAt(5 * K4 + 100)).isEqualTo(p5);
        assertThat(f.lookup(6)).isEqualTo(-1);
        assertThat(f.cachedPages()).isEqualTo(2);
        assertThatThrownBy(() -> f.create(5)).isInstanceOf(IllegalStateException.class);
        assertThat(f.pfnAt(4 * M2)).isEqualTo(-1);
    }

    @Test
    void theLastReferenceTruncatesThePageCache() {
        SimScheduler sched = Sims.attached(1);
        HostMm mm = new HostMm(sched, phys);
        MemFd f = new MemFd(phys, "huge", 2 * M2, M2);
        long a = mm.mmap(2 * M2, f, 0);
        mm.write(a + M2, 8, 3);
        f.close();
        assertThat(f.isReleased()).isFalse();
        assertThat(phys.livePages()).isEqualTo(512);
        mm.munmap(a, M2); // the other half still holds the file
        assertThat(f.isReleased()).isFalse();
        mm.munmap(a + M2, M2);
        assertThat(f.isReleased()).isTrue();
        assertThat(phys.livePages()).isZero();
        assertThatThrownBy(() -> mm.mmap(M2, f, 0)).isInstanceOf(IllegalStateException.class);
        mm.close();
        sched.close();
    }
}
