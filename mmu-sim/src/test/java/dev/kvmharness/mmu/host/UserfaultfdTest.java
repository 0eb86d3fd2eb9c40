// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static dev.kvmharness.mmu.host.HostMmTest.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.Sims;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Registration and the resolving ioctls, driven from one thread (no fault ever has to wait here). */
class UserfaultfdTest {
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;

    private final SimScheduler sched = Sims.attached(5);
    private final PhysMem phys = new PhysMem();
    private final HostMm mm = new HostMm(sched, phys);
    private final Userfaultfd uffd = mm.userfaultfd();

    @AfterEach
    void tearDown() {
        mm.close();
        sched.close();
    }

    @Test
    void registrationIsValidatedInTheKernelsOrder() {
        long anon = mm.mmap(4 * K4, Backing.ANON);
        long thp = mm.mmap(2 * M2, Backing.ANON_THP);
        long huge = mm.mmap(2 * M2, Backing.ANON_HUGETLB_2M);
        assertErrno(() -> uffd.register(anon, K4), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(anon + 1, K4, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(anon, K4 + 1, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(anon, 0, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(0x10000, K4, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(HostMm.TASK_SIZE, K4, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(anon, K4, UffdMode.MINOR), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(thp, M2, UffdMode.MINOR), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(huge + K4, M2, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        assertErrno(() -> uffd.register(huge, M2 + K4, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EINVAL);
        uffd.register(huge, M2, UffdMode.MINOR); // hugetlb accepts MINOR even when private, as in the kernel
        uffd.register(anon, 2 * K4, UffdMode.MISSING);
        Userfaultfd other = mm.userfaultfd();
        assertErrno(() -> other.register(anon + K4, 2 * K4, UffdMode.MISSING), "UFFDIO_REGISTER", KvmErrno.EBUSY);
        other.register(anon + 2 * K4, 2 * K4, UffdMode.MISSING);
    }

    @Test
    void registrationSplitsVmasAndUnregistrationMergesThemBack() {
        long a = mm.mmap(8 * K4, Backing.ANON);
        assertThat(mm.vmaCount()).isEqualTo(1);
        uffd.register(a + 2 * K4, 2 * K4, UffdMode.MISSING);
        assertThat(mm.vmaCount()).isEqualTo(3);
        uffd.register(a + 4 * K4, 2 * K4, UffdMode.MISSING); // joins the registered neighbour
        assertThat(mm.vmaCount()).isEqualTo(3);
        uffd.unregister(a, 8 * K4);
        assertThat(mm.vmaCount()).isEqualTo(1);
        assertErrno(() -> uffd.unregister(0x10000, K4), "UFFDIO_UNREGISTER", KvmErrno.EINVAL);
        assertThat(mm.faultIn(a + 3 * K4, true).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
    }

    @Test
    void aMissingFaultThatMayNotWaitQueuesNothing() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        uffd.register(a, 4 * K4, UffdMode.MISSING);
        assertThat(mm.faultInNoWait(a, false)).isNull();
        assertThat(uffd.pendingMessages()).isZero();
        assertThat(uffd.faultsRaised()).isZero();
        assertThat(mm.pfnIfMapped(a)).isEqualTo(-1);
    }

    @Test
    void copyMapsPagesWithTheGivenBytes() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        uffd.register(a, 4 * K4, UffdMode.MISSING);
        assertThat(uffd.copy(a, 2 * K4, (byte) 0xab)).isEqualTo(2 * K4);
        assertThat(mm.read(a + K4 + 8, 4)).isEqualTo(0xabab_ababL);
        FaultResult r = mm.faultIn(a + 100, true);
        assertThat(r.mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        assertThat(phys.read(r.pfn(), 0, 1)).isEqualTo(0xab);
        assertThat(phys.isDirty(r.pfn())).isTrue();
        byte[] src = new byte[(int) K4];
        for (int i = 0; i < src.length; i++) {
            src[i] = (byte) i;
        }
        assertThat(uffd.copy(a + 3 * K4, src)).isEqualTo(K4);
        assertThat(mm.read(a + 3 * K4 + 0x102, 1)).isEqualTo(2);
        assertThat(uffd.pagesCopied()).isEqualTo(3);
        assertThat(mm.faultInNoWait(a + 2 * K4, false)).isNull(); // the one page not copied
    }

    @Test
    void copyErrors() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        long plain = mm.mmap(K4, Backing.ANON);
        uffd.register(a, 4 * K4, UffdMode.MISSING);
        assertErrno(() -> uffd.copy(plain, K4, (byte) 1), "UFFDIO_COPY", KvmErrno.ENOENT);
        assertErrno(() -> uffd.copy(a + 3 * K4, 2 * K4, (byte) 1), "UFFDIO_COPY", KvmErrno.ENOENT);
        assertErrno(() -> uffd.copy(a + 1, K4, (byte) 1), "UFFDIO_COPY", KvmErrno.EINVAL);
        assertErrno(() -> uffd.copy(a, 100, (byte) 1), "UFFDIO_COPY", KvmErrno.EINVAL);
        uffd.copy(a + K4, K4, (byte) 1);
        assertErrno(() -> uffd.copy(a + K4, K4, (byte) 2), "UFFDIO_COPY", KvmErrno.EEXIST);
        // a copy that runs into a present page stops there and reports the short count (EAGAIN in C)
        assertThat(uffd.copy(a, 3 * K4, (byte) 3)).isEqualTo(K4);
        assertThat(mm.read(a + K4, 1)).isEqualTo(1);
        assertThat(mm.pfnIfMapped(a + 2 * K4)).isEqualTo(-1);
        long thp = mm.mmap(M2, Backing.ANON_THP);
        mm.faultIn(thp, true);
        uffd.register(thp, M2, UffdMode.MISSING);
        assertErrno(() -> uffd.copy(thp + K4, K4, (byte) 1), "UFFDIO_COPY", KvmErrno.EEXIST);
    }

    @Test
    void hugetlbResolvesInWholeHugePages() {
        long h = mm.mmap(2 * M2, Backing.ANON_HUGETLB_2M);
        uffd.register(h, 2 * M2, UffdMode.MISSING);
        assertErrno(() -> uffd.copy(h, K4, (byte) 1), "UFFDIO_COPY", KvmErrno.EINVAL);
        assertErrno(() -> uffd.copy(h + K4, M2, (byte) 1), "UFFDIO_COPY", KvmErrno.EINVAL);
        assertErrno(() -> uffd.zeropage(h, M2), "UFFDIO_ZEROPAGE", KvmErrno.EINVAL);
        long t = sched.now();
        assertThat(uffd.copy(h + M2, M2, (byte) 7)).isEqualTo(M2);
        // ioctl, mmap_read_lock, allocation, 512 page copies, and the wait queue's line for the wake
        assertThat(sched.now() - t).isEqualTo(250 + 25 + 250 + 512 * 450 + 50);
        assertThat(mm.mappingLevel(h + M2 + 5 * K4)).isEqualTo(HostPageTable.PG_LEVEL_2M);
        assertThat(mm.read(h + 2 * M2 - 1, 1)).isEqualTo(7);
        assertThat(uffd.pagesCopied()).isEqualTo(512);
        assertErrno(() -> uffd.copy(h + M2, M2, (byte) 1), "UFFDIO_COPY", KvmErrno.EEXIST);
        assertErrno(() -> uffd.cont(h, M2), "UFFDIO_CONTINUE", KvmErrno.EFAULT);
    }

    @Test
    void zeropageMapsAZeroedPage() {
        MemFd f = new MemFd(phys, "shm", M2, K4);
        long s = mm.mmap(M2, f, 0);
        long a = mm.mmap(4 * K4, Backing.ANON);
        uffd.register(a, 4 * K4, UffdMode.MISSING);
        uffd.register(s, M2, UffdMode.MISSING);
        assertThat(uffd.zeropage(a, K4)).isEqualTo(K4);
        assertThat(uffd.zeropage(s, K4)).isEqualTo(K4);
        assertThat(mm.read(a, 8)).isZero();
        assertThat(f.cachedPages()).isEqualTo(1);
        assertErrno(() -> uffd.zeropage(a, K4), "UFFDIO_ZEROPAGE", KvmErrno.EEXIST);
        assertThat(uffd.pagesZeroed()).isEqualTo(2);
        assertThat(phys.dataPages()).isZero();
    }

    @Test
    void continueMapsThePageCachePageOfTheAlias() {
        MemFd f = new MemFd(phys, "guest", 4 * K4, K4);
        long primary = mm.mmap(4 * K4, f, 0);
        long alias = mm.mmap(4 * K4, f, 0);
        uffd.register(primary, 4 * K4, UffdMode.MINOR);
        mm.write(alias + K4, 8, 0x77); // populates the page cache through the unregistered alias
        assertThat(mm.faultInNoWait(primary + K4, false)).isNull(); // cached, not mapped here: MINOR
        assertErrno(() -> uffd.cont(primary, K4), "UFFDIO_CONTINUE", KvmErrno.EFAULT);
        assertThat(uffd.cont(primary + K4, K4)).isEqualTo(K4);
        assertThat(mm.pfnIfMapped(primary + K4)).isEqualTo(mm.pfnIfMapped(alias + K4));
        assertThat(mm.read(primary + K4, 8)).isEqualTo(0x77);
        assertErrno(() -> uffd.cont(primary + K4, K4), "UFFDIO_CONTINUE", KvmErrno.EEXIST);
        assertThat(uffd.pagesContinued()).isEqualTo(1);
        // a page that is not cached is an ordinary fault on a MINOR-only range
        assertThat(mm.faultIn(primary + 2 * K4, true).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        long anon = mm.mmap(K4, Backing.ANON);
        uffd.register(anon, K4, UffdMode.MISSING);
        assertErrno(() -> uffd.cont(anon, K4), "UFFDIO_CONTINUE", KvmErrno.EINVAL);
    }

    @Test
    void continueOnHugetlbfsMapsTheWholeHugePage() {
        MemFd f = new MemFd(phys, "huge", 2 * M2, M2);
        long primary = mm.mmap(2 * M2, f, 0);
        long alias = mm.mmap(2 * M2, f, 0);
        uffd.register(primary, 2 * M2, UffdMode.MINOR);
        mm.fill(alias, 2 * M2, (byte) 0x42);
        assertErrno(() -> uffd.cont(primary, K4), "UFFDIO_CONTINUE", KvmErrno.EINVAL);
        assertThat(uffd.cont(primary, 2 * M2)).isEqualTo(2 * M2);
        assertThat(mm.mappingLevel(primary + M2)).isEqualTo(HostPageTable.PG_LEVEL_2M);
        assertThat(mm.read(primary + M2 + 77, 1)).isEqualTo(0x42);
        assertThat(uffd.pagesContinued()).isEqualTo(1024);
    }

    @Test
    void reRegisteringReplacesTheModes() {
        MemFd f = new MemFd(phys, "shm", 2 * K4, K4);
        long s = mm.mmap(2 * K4, f, 0);
        uffd.register(s, 2 * K4, UffdMode.MISSING);
        assertThat(mm.faultInNoWait(s, false)).isNull();
        uffd.register(s, 2 * K4, UffdMode.MINOR);
        assertThat(mm.faultInNoWait(s, false)).isNotNull(); // missing pages are no longer reported
        uffd.register(s, 2 * K4, UffdMode.MISSING, UffdMode.MINOR);
        assertThat(mm.faultInNoWait(s + K4, false)).isNull();
    }

    @Test
    void aTimedReadWithoutMessagesReturnsNullAtTheDeadline() {
        long deadline = sched.now() + 5000;
        assertThat(uffd.read(deadline)).isNull();
        assertThat(sched.now()).isEqualTo(deadline);
    }

    @Test
    void wakeChecksItsRange() {
        assertErrno(() -> uffd.wake(0x1000, 0), "UFFDIO_WAKE", KvmErrno.EINVAL);
        assertErrno(() -> uffd.wake(0x1001, K4), "UFFDIO_WAKE", KvmErrno.EINVAL);
    }

    @Test
    void closingDropsRegistrationsAndRefusesIoctls() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        uffd.register(a, 2 * K4, UffdMode.MISSING);
        assertThat(mm.vmaCount()).isEqualTo(2);
        uffd.close();
        assertThat(uffd.isClosed()).isTrue();
        assertThat(mm.vmaCount()).isEqualTo(1);
        assertThat(uffd.read(Long.MAX_VALUE)).isNull();
        assertThat(mm.faultIn(a, true).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        assertThatThrownBy(() -> uffd.copy(a + K4, K4, (byte) 0)).isInstanceOf(IllegalStateException.class);
        Userfaultfd second = mm.userfaultfd();
        second.register(a, K4, UffdMode.MISSING);
        mm.close();
        assertThat(second.isClosed()).isTrue();
    }
}
