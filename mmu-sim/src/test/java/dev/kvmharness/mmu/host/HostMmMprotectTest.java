// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.Sims;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** mprotect(): VMA splits and merges, the notifier pair KVM zaps in, and the write fault get_user_pages refuses. */
class HostMmMprotectTest {
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;

    private final SimScheduler sched = Sims.attached(1);
    private final PhysMem phys = new PhysMem();
    private final HostMm mm = new HostMm(sched, phys);

    @AfterEach
    void tearDown() {
        mm.close();
        sched.close();
    }

    @Test
    void readOnlyRefusesWriteFaultsButNotReadsAndWritableAgainRestoresThem() {
        MemFd f = new MemFd(phys, "m", 4 * M2, K4);
        long a = mm.mmap(4 * M2, f, 0);
        mm.write(a, 8, 42);
        mm.mprotect(a, 4 * M2, false);
        assertThat(mm.read(a, 8)).isEqualTo(42);
        assertThat(mm.faultIn(a, false).writable()).isFalse();
        HostMmTest.assertErrno(() -> mm.faultIn(a + K4, true), "get_user_pages", KvmErrno.EFAULT);
        mm.mprotect(a, 4 * M2, true);
        assertThat(mm.faultIn(a + K4, true).writable()).isTrue();
        assertThat(mm.vmaCount()).as("the pieces merged back").isEqualTo(1);
    }

    @Test
    void partOfAVmaIsSplitOffAndTheRangeIsAnnouncedToTheNotifiers() {
        RecordingNotifier n = new RecordingNotifier();
        mm.register(n);
        long a = mm.mmap(4 * M2, Backing.ANON);
        mm.mprotect(a + M2, M2, false);
        assertThat(mm.vmaCount()).isEqualTo(3);
        assertThat(n.events).hasSize(2);
        assertThat(n.events.get(0)).contains(Long.toHexString(a + M2)).contains(Long.toHexString(a + 2 * M2));
        assertThat(mm.faultIn(a, true).writable()).isTrue();
        HostMmTest.assertErrno(() -> mm.faultIn(a + M2 + K4, true), "get_user_pages", KvmErrno.EFAULT);
        assertThat(mm.faultIn(a + 2 * M2, true).writable()).isTrue();
    }

    @Test
    void holesAndHugetlbMisalignmentAreRefused() {
        long a = mm.mmap(2 * M2, Backing.ANON);
        HostMmTest.assertErrno(() -> mm.mprotect(a, 3 * M2, false), "mprotect", KvmErrno.ENOMEM);
        long h = mm.mmap(2 * M2, Backing.ANON_HUGETLB_2M);
        HostMmTest.assertErrno(() -> mm.mprotect(h + K4, M2, false), "mprotect", KvmErrno.EINVAL);
        assertThat(mm.faultIn(a, true).writable()).as("nothing changed").isTrue();
    }
}
