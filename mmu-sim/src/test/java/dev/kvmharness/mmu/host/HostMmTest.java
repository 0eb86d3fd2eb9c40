// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import dev.kvmharness.mmu.sched.Sims;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HostMmTest {
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;
    private static final long G1 = 1L << 30;

    private final SimScheduler sched = Sims.attached(1);
    private final PhysMem phys = new PhysMem();
    private final HostMm mm = new HostMm(sched, phys);

    @AfterEach
    void tearDown() {
        mm.close();
        sched.close();
    }

    static void assertErrno(ThrowingCallable call, String name, KvmErrno errno) {
        assertThatThrownBy(call).isInstanceOfSatisfying(SimKvmException.class, e -> {
            assertThat(e.call()).isEqualTo(name);
            assertThat(e.errno()).isEqualTo(errno);
        });
    }

    @Test
    void mmapReturnsAlignedDisjointDeterministicAddresses() {
        long a = mm.mmap(5 * K4, Backing.ANON);
        long b = mm.mmap(3 * M2, Backing.ANON_THP);
        long c = mm.mmap(2 * M2, Backing.ANON_HUGETLB_2M);
        long d = mm.mmap(G1, Backing.ANON_HUGETLB_1G);
        assertThat(a % M2).isZero();
        assertThat(b % M2).isZero();
        assertThat(c % M2).isZero();
        assertThat(d % G1).isZero();
        long[][] ranges = {{a, a + 5 * K4}, {b, b + 3 * M2}, {c, c + 2 * M2}, {d, d + G1}};
        for (int i = 0; i < ranges.length; i++) {
            for (int j = i + 1; j < ranges.length; j++) {
                assertThat(ranges[i][1] <= ranges[j][0] || ranges[j][1] <= ranges[i][0]).isTrue();
            }
        }
        HostMm again = new HostMm(sched, new PhysMem());
        assertThat(again.mmap(5 * K4, Backing.ANON)).isEqualTo(a);
        assertThat(again.mmap(3 * M2, Backing.ANON_THP)).isEqualTo(b);
        again.close();
        assertThat(mm.vmaCount()).isEqualTo(4);
    }

    @Test
    void mmapRejectsLengthsThatAreNotPageMultiples() {
        assertErrno(() -> mm.mmap(K4 + 1, Backing.ANON), "mmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.mmap(0, Backing.ANON), "mmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.mmap(M2 + K4, Backing.ANON_HUGETLB_2M), "mmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.mmap(M2, Backing.ANON_HUGETLB_1G), "mmap", KvmErrno.EINVAL);
        MemFd f = new MemFd(phys, "f", 4 * M2, M2);
        assertErrno(() -> mm.mmap(K4, f, 0), "mmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.mmap(M2, f, K4), "mmap", KvmErrno.EINVAL);
        assertThat(mm.vmaCount()).isZero();
    }

    @Test
    void bytesWrittenThroughOneAliasAreReadThroughTheOtherOnTheSamePfn() {
        MemFd f = new MemFd(phys, "guest", 4 * M2, K4);
        long a = mm.mmap(4 * M2, f, 0);
        long b = mm.mmap(2 * M2, f, 2 * M2);
        mm.write(a + 2 * M2 + 0x1238, 8, 0x1122_3344_5566_7788L);
        assertThat(mm.read(b + 0x1238, 8)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(mm.read(b + 0x123c, 4)).isEqualTo(0x1122_3344L);
        assertThat(mm.pfnIfMapped(b + 0x1000)).isEqualTo(mm.pfnIfMapped(a + 2 * M2 + 0x1000)).isPositive();
        assertThat(f.pfnAt(2 * M2 + 0x1238)).isEqualTo(mm.pfnIfMapped(a + 2 * M2 + 0x1000));
        mm.fill(b + 4000, 200, (byte) 0x5a); // crosses a page boundary
        byte[] got = new byte[202];
        mm.readBytes(a + 2 * M2 + 3999, got, 0, 202);
        assertThat(got[0]).isZero();
        assertThat(got[1]).isEqualTo((byte) 0x5a);
        assertThat(got[200]).isEqualTo((byte) 0x5a);
        assertThat(got[201]).isZero();
        mm.write(a + K4 - 2, 4, 0xa1b2c3d4L); // an unaligned store across two pages
        assertThat(mm.read(a + K4 - 2, 4)).isEqualTo(0xa1b2c3d4L);
        assertThat(f.cachedPages()).isEqualTo(4);
    }

    @Test
    void kvmFaultsSeeHostBytesAtTheReturnedPfn() {
        long a = mm.mmap(16 * K4, Backing.ANON);
        mm.write(a + 5 * K4 + 16, 8, 77);
        FaultResult r = mm.faultIn(a + 5 * K4 + 100, false);
        assertThat(r.mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        assertThat(r.writable()).isTrue();
        assertThat(phys.read(r.pfn(), 16, 8)).isEqualTo(77);
        phys.write(mm.faultIn(a, true).pfn(), 0, 4, 0xfeed);
        assertThat(mm.read(a, 4)).isEqualTo(0xfeed);
        assertThat(phys.isDirty(mm.pfnIfMapped(a))).isTrue();
    }

    @Test
    void faultingChargesAllocationOnceThenGupFast() {
        long a = mm.mmap(M2, Backing.ANON);
        long t0 = sched.now();
        mm.faultIn(a, true);
        long t1 = sched.now();
        mm.faultIn(a, true);
        long t2 = sched.now();
        // mmap_read_lock (the count line still in this CPU's cache from mmap), the page, the per-CPU list's
        // first refill from the zone, clearing; then GUP-fast
        assertThat(t1 - t0).isEqualTo(25 + 250 + 25 + PageAllocator.PCP_BATCH * 40 + 350);
        assertThat(t2 - t1).isEqualTo(60);
        long h = mm.mmap(M2, Backing.ANON_HUGETLB_2M);
        long t3 = sched.now();
        mm.faultIn(h + 12345, false);
        assertThat(sched.now() - t3).isEqualTo(25 + 250 + 512 * 350); // from the hugetlb pool: no zone lock
        assertThat(mm.faultsHandled()).isEqualTo(2);
    }

    @Test
    void mappingLevelsFollowTheBacking() {
        long anon = mm.mmap(4 * M2, Backing.ANON);
        long h2 = mm.mmap(4 * M2, Backing.ANON_HUGETLB_2M);
        long h1 = mm.mmap(G1, Backing.ANON_HUGETLB_1G);
        assertThat(mm.mappingLevel(anon)).isEqualTo(HostPageTable.PG_LEVEL_NONE);
        assertThat(mm.faultIn(anon + M2, false).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        FaultResult r2 = mm.faultIn(h2 + M2 + 5 * K4, true);
        assertThat(r2.mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_2M);
        long head2 = mm.pfnIfMapped(h2 + M2);
        assertThat(head2 % 512).isZero();
        assertThat(r2.pfn()).isEqualTo(head2 + 5);
        assertThat(mm.mappingLevel(h2 + 2 * M2 - 1)).isEqualTo(HostPageTable.PG_LEVEL_2M);
        assertThat(mm.mappingLevel(h2 + 2 * M2)).isEqualTo(HostPageTable.PG_LEVEL_NONE);
        FaultResult r1 = mm.faultIn(h1 + 300 * M2 + 7 * K4, false);
        assertThat(r1.mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_1G);
        assertThat(mm.pfnIfMapped(h1) % (1 << 18)).isZero();
        assertThat(r1.pfn()).isEqualTo(mm.pfnIfMapped(h1) + 300 * 512 + 7);
    }

    @Test
    void thpMapsHugeOnlyWhereTheWholeAligned2MIsInsideTheVma() {
        // 3 MiB + 8 KiB: one whole 2M range, then a tail that cannot hold a THP
        long a = mm.mmap(M2 + M2 / 2 + 2 * K4, Backing.ANON_THP);
        assertThat(mm.faultIn(a + 100 * K4, false).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_2M);
        assertThat(mm.faultIn(a + M2 + K4, false).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        assertThat(phys.livePages()).isEqualTo(513);
        long head = mm.pfnIfMapped(a);
        assertThat(phys.compoundOrder(head)).isEqualTo(PhysMem.PMD_ORDER);
        MemFd f = new MemFd(phys, "shm", 4 * M2, K4);
        long s = mm.mmap(4 * M2, f, 0);
        assertThat(mm.faultIn(s, false).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K); // shmem is never THP here
    }

    @Test
    void hugetlbFilesMapHugeLeavesSharedByAliases() {
        MemFd f = new MemFd(phys, "huge", 2 * G1, G1);
        long a = mm.mmap(2 * G1, f, 0);
        long b = mm.mmap(G1, f, G1);
        mm.write(a + G1 + 123 * K4, 8, 99);
        assertThat(mm.mappingLevel(b)).isEqualTo(HostPageTable.PG_LEVEL_NONE);
        assertThat(mm.read(b + 123 * K4, 8)).isEqualTo(99);
        assertThat(mm.mappingLevel(b)).isEqualTo(HostPageTable.PG_LEVEL_1G);
        assertThat(mm.pfnIfMapped(b)).isEqualTo(mm.pfnIfMapped(a + G1));
        assertThat(f.cachedPages()).isEqualTo(1 << 18);
    }

    @Test
    void munmapNotifiesAroundFreeingWithTheExactRange() {
        long a = mm.mmap(8 * K4, Backing.ANON);
        long pfn = mm.faultIn(a + 2 * K4, true).pfn();
        RecordingNotifier n = new RecordingNotifier();
        n.probe = phys::isLive;
        n.probePfn = pfn;
        mm.register(n);
        mm.munmap(a + K4, 3 * K4);
        assertThat(n.events).containsExactly(
                String.format("start %x-%x live", a + K4, a + 4 * K4),
                String.format("end %x-%x freed", a + K4, a + 4 * K4));
        assertThat(phys.isLive(pfn)).isFalse();
        assertThat(mm.vmaCount()).isEqualTo(2);
        assertErrno(() -> mm.faultIn(a + 2 * K4, false), "get_user_pages", KvmErrno.EFAULT);
        assertThat(mm.faultIn(a + 4 * K4, false).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        n.events.clear();
        mm.munmap(a + 9 * K4, K4); // nothing there: no notification, no error
        assertThat(n.events).isEmpty();
    }

    @Test
    void munmapOfFileMappingKeepsThePageCache() {
        MemFd f = new MemFd(phys, "shm", 2 * M2, K4);
        long a = mm.mmap(2 * M2, f, 0);
        mm.write(a + 5 * K4, 4, 1234);
        long pfn = mm.pfnIfMapped(a + 5 * K4);
        mm.munmap(a, 2 * M2);
        assertThat(phys.isLive(pfn)).isTrue();
        long b = mm.mmap(2 * M2, f, 0);
        assertThat(mm.read(b + 5 * K4, 4)).isEqualTo(1234);
        assertThat(mm.pfnIfMapped(b + 5 * K4)).isEqualTo(pfn);
        f.close();
        assertThat(phys.isLive(pfn)).isTrue(); // still mapped at b
        mm.munmap(b, 2 * M2);
        assertThat(f.isReleased()).isTrue();
        assertThat(phys.isLive(pfn)).isFalse();
        assertThat(phys.livePages()).isZero();
    }

    @Test
    void madviseDontneedGivesAnonymousMemoryANewZeroedPage() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        mm.write(a + K4, 8, 42);
        long old = mm.pfnIfMapped(a + K4);
        RecordingNotifier n = new RecordingNotifier();
        n.probe = phys::isLive;
        n.probePfn = old;
        mm.register(n);
        mm.madviseDontneed(a, 2 * K4);
        assertThat(n.events).containsExactly(String.format("start %x-%x live", a, a + 2 * K4),
                String.format("end %x-%x freed", a, a + 2 * K4));
        assertThat(mm.pfnIfMapped(a + K4)).isEqualTo(-1);
        assertThat(mm.read(a + K4, 8)).isZero();
        assertThat(mm.pfnIfMapped(a + K4)).isNotEqualTo(old).isPositive();
    }

    @Test
    void madviseDontneedOnSharedMemoryKeepsPfnAndBytes() {
        MemFd f = new MemFd(phys, "shm", M2, K4);
        long a = mm.mmap(M2, f, 0);
        mm.write(a, 8, 42);
        long pfn = mm.pfnIfMapped(a);
        mm.madviseDontneed(a, K4);
        assertThat(mm.mappingLevel(a)).isEqualTo(HostPageTable.PG_LEVEL_NONE);
        assertThat(mm.read(a, 8)).isEqualTo(42);
        assertThat(mm.pfnIfMapped(a)).isEqualTo(pfn);
    }

    @Test
    void cuttingIntoATransparentHugePageSplitsItWithANestedNotification() {
        long a = mm.mmap(2 * M2, Backing.ANON_THP);
        mm.write(a + 10 * K4, 8, 10);
        long head = mm.pfnIfMapped(a);
        RecordingNotifier n = new RecordingNotifier();
        mm.register(n);
        mm.madviseDontneed(a + 4 * K4, 2 * K4);
        assertThat(n.events).containsExactly(
                String.format("start %x-%x", a + 4 * K4, a + 6 * K4),
                String.format("start %x-%x", a, a + M2),
                String.format("end %x-%x", a, a + M2),
                String.format("end %x-%x", a + 4 * K4, a + 6 * K4));
        assertThat(mm.mappingLevel(a)).isEqualTo(HostPageTable.PG_LEVEL_4K);
        assertThat(mm.pfnIfMapped(a + 10 * K4)).isEqualTo(head + 10);
        assertThat(mm.read(a + 10 * K4, 8)).isEqualTo(10);
        assertThat(phys.isLive(head + 4)).isFalse();
        assertThat(phys.isLive(head + 6)).isTrue();
        assertThat(phys.livePages()).isEqualTo(510);
        // the 2M range keeps its PTE table, so a refault there is 4K (as in 6.12)
        assertThat(mm.faultIn(a + 4 * K4, false).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        // dropping a whole THP leaves the PMD empty: the next touch maps a new THP
        mm.faultIn(a + M2, false);
        long second = mm.pfnIfMapped(a + M2);
        mm.madviseDontneed(a + M2, M2);
        assertThat(phys.isLive(second)).isFalse();
        assertThat(mm.faultIn(a + M2 + K4, false).mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_2M);
    }

    @Test
    void munmapFreesPageTablesSoAThpCanReturnAfterPartialUnmapsCleared() {
        long a = mm.mmap(3 * M2, Backing.ANON_THP);
        for (long off = 0; off < 3 * M2; off += M2) {
            mm.faultIn(a + off, true);
        }
        mm.madviseDontneed(a + M2, K4); // the middle THP becomes a PTE table
        long before = mm.pageTableBytes();
        mm.munmap(a + M2, M2);
        assertThat(mm.pageTableBytes()).isLessThan(before);
        assertThat(phys.livePages()).isEqualTo(1024);
    }

    @Test
    void hugetlbUnmapMustNotSplitAHugePage() {
        long h = mm.mmap(2 * M2, Backing.ANON_HUGETLB_2M);
        mm.faultIn(h, true);
        assertErrno(() -> mm.munmap(h + K4, K4), "munmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.munmap(h, K4), "munmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.madviseDontneed(h + K4, M2), "madvise", KvmErrno.EINVAL);
        long pfn = mm.pfnIfMapped(h);
        mm.madviseDontneed(h, M2 + K4); // the end rounds down to a whole huge page
        assertThat(phys.isLive(pfn)).isFalse();
        mm.munmap(h + M2, M2);
        assertThat(mm.vmaCount()).isEqualTo(1);
        assertThat(phys.livePages()).isZero();
    }

    @Test
    void badRangesAndHoles() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        assertErrno(() -> mm.munmap(a + 1, K4), "munmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.munmap(a, 0), "munmap", KvmErrno.EINVAL);
        assertErrno(() -> mm.madviseDontneed(a + 7, K4), "madvise", KvmErrno.EINVAL);
        mm.write(a, 8, 1);
        assertErrno(() -> mm.madviseDontneed(a, 8 * K4), "madvise", KvmErrno.ENOMEM);
        assertThat(mm.pfnIfMapped(a)).isEqualTo(-1); // the mapped part was still dropped
        assertErrno(() -> mm.faultIn(0x1000, false), "get_user_pages", KvmErrno.EFAULT);
        assertErrno(() -> mm.read(a + 4 * K4, 1), "host access", KvmErrno.EFAULT);
    }

    @Test
    void readOnlyMappingsRefuseWritesAndReportNotWritable() {
        long a = mm.mmap(4 * K4, Backing.ANON, false);
        FaultResult r = mm.faultIn(a, false);
        assertThat(r.writable()).isFalse();
        assertErrno(() -> mm.faultIn(a, true), "get_user_pages", KvmErrno.EFAULT);
        assertErrno(() -> mm.write(a, 1, 1), "host access", KvmErrno.EFAULT);
        assertThat(mm.read(a, 8)).isZero();
    }

    @Test
    void accessesBeyondTheEndOfTheFileAreSigbus() {
        MemFd f = new MemFd(phys, "small", 4 * K4, K4);
        long a = mm.mmap(M2, f, 0);
        mm.write(a + 3 * K4, 1, 1);
        assertErrno(() -> mm.faultIn(a + 4 * K4, false), "get_user_pages", KvmErrno.EFAULT);
    }

    @Test
    void agingClearsHostAccessedBitsAndAsksTheNotifiers() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        RecordingNotifier n = new RecordingNotifier();
        mm.register(n);
        mm.faultIn(a, false); // GUP marks the folio, not the PTE
        assertThat(phys.isAccessed(mm.pfnIfMapped(a))).isTrue();
        assertThat(mm.ageRange(a, a + 4 * K4)).isFalse();
        mm.read(a + K4, 1);
        assertThat(mm.testYoung(a + K4)).isTrue();
        assertThat(mm.ageRange(a, a + 4 * K4)).isTrue();
        assertThat(mm.ageRange(a, a + 4 * K4)).isFalse();
        n.young = true;
        assertThat(mm.clearYoungRange(a, a + K4)).isTrue();
        assertThat(n.events).containsExactly(String.format("clear_flush_young %x-%x", a, a + 4 * K4),
                String.format("test_young %x", a + K4),
                String.format("clear_flush_young %x-%x", a, a + 4 * K4),
                String.format("clear_flush_young %x-%x", a, a + 4 * K4),
                String.format("clear_young %x-%x", a, a + K4));
    }

    @Test
    void closeReleasesNotifiersThenFreesEverything() {
        RecordingNotifier n = new RecordingNotifier();
        long a = mm.mmap(4 * M2, Backing.ANON_THP);
        MemFd f = new MemFd(phys, "shm", M2, K4);
        long s = mm.mmap(M2, f, 0);
        mm.fill(a, 4 * M2, (byte) 1);
        mm.write(s, 8, 5);
        n.probe = phys::isLive;
        n.probePfn = mm.pfnIfMapped(a);
        mm.register(n);
        f.close();
        mm.close();
        assertThat(n.events).containsExactly("release");
        assertThat(phys.livePages()).isZero();
        assertThat(f.isReleased()).isTrue();
        assertThat(mm.isClosed()).isTrue();
        assertErrno(() -> mm.faultIn(a, false), "get_user_pages", KvmErrno.EFAULT);
        mm.close();
        assertThat(n.events).hasSize(1);
    }

    @Test
    void otherThreadsRunInsideTheInvalidationWindow() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        long old = mm.faultIn(a, true).pfn();
        RecordingNotifier n = new RecordingNotifier();
        n.onStart = () -> sched.sleep(10_000);
        mm.register(n);
        long[] seen = new long[1];
        SimThread vcpu = sched.spawn("vcpu", () -> {
            sched.sleep(5_000);
            seen[0] = mm.faultIn(a, true).pfn(); // between start and the zap: the old page is still mapped
        });
        mm.madviseDontneed(a, K4);
        sched.join(vcpu);
        assertThat(seen[0]).isEqualTo(old);
        assertThat(phys.isLive(old)).isFalse();
        assertThat(mm.pfnIfMapped(a)).isEqualTo(-1);
        KvmErrno[] errno = new KvmErrno[1];
        SimThread late = sched.spawn("vcpu-late", () -> {
            sched.sleep(5_000);
            try {
                mm.faultIn(a + K4, false);
            } catch (SimKvmException e) {
                errno[0] = e.errno(); // munmap detached the VMA before notifying
            }
        });
        mm.munmap(a, 4 * K4);
        sched.join(late);
        assertThat(errno[0]).isEqualTo(KvmErrno.EFAULT);
    }

    @Test
    void unregisterCallsReleaseAndStopsNotifications() {
        RecordingNotifier n = new RecordingNotifier();
        mm.register(n);
        long a = mm.mmap(K4, Backing.ANON);
        mm.unregister(n);
        mm.munmap(a, K4);
        assertThat(n.events).isEqualTo(List.of("release"));
    }
}
