// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.host;

import static dev.kvmharness.mmu.host.HostMmTest.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import dev.kvmharness.mmu.sched.Sims;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Faulting threads that block in a userfault and handler threads that resolve them, on the baton scheduler. */
class UserfaultfdFlowTest {
    private static final long K4 = 4096;
    private static final long M2 = 2L << 20;

    private SimScheduler sched = Sims.attached(11);
    private PhysMem phys = new PhysMem();
    private HostMm mm = new HostMm(sched, phys);

    @AfterEach
    void tearDown() {
        mm.close();
        sched.close();
    }

    /** A handler like the selftests' uffd_handler_thread_fn: read, resolve, until the userfaultfd is closed. */
    private static Runnable copyHandler(Userfaultfd uffd, long unit, byte fill, List<UffdMsg> seen) {
        return () -> {
            for (UffdMsg m; (m = uffd.read(Long.MAX_VALUE)) != null;) {
                seen.add(m);
                try {
                    uffd.copy(m.address(), unit, fill);
                } catch (dev.kvmharness.mmu.SimKvmException e) {
                    if (e.errno() != KvmErrno.EEXIST) {
                        throw e; // EEXIST: another fault on the same page was resolved first
                    }
                }
            }
        };
    }

    @Test
    void missingFaultsWaitForTheHandlersCopy() {
        long a = mm.mmap(8 * K4, Backing.ANON);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(a, 8 * K4, UffdMode.MISSING);
        List<UffdMsg> seen = new ArrayList<>();
        SimThread handler = sched.spawn("uffd-handler", copyHandler(uffd, K4, (byte) 0x5a, seen));
        long[] pfns = new long[4];
        SimThread vcpu = sched.spawn("vcpu0", () -> {
            for (int i = 0; i < 4; i++) {
                FaultResult r = mm.faultIn(a + 2L * i * K4 + 0x10, i % 2 == 1);
                pfns[i] = r.pfn();
            }
        });
        sched.join(vcpu);
        uffd.close();
        sched.join(handler);
        assertThat(seen).extracting(UffdMsg::address).containsExactly(a, a + 2 * K4, a + 4 * K4, a + 6 * K4);
        assertThat(seen).extracting(UffdMsg::realAddress).containsExactly(a + 0x10, a + 2 * K4 + 0x10,
                a + 4 * K4 + 0x10, a + 6 * K4 + 0x10);
        assertThat(seen).extracting(UffdMsg::flags).containsExactly(0, UffdMsg.UFFD_PAGEFAULT_FLAG_WRITE, 0,
                UffdMsg.UFFD_PAGEFAULT_FLAG_WRITE);
        for (int i = 0; i < 4; i++) {
            assertThat(phys.read(pfns[i], 0, 8)).isEqualTo(0x5a5a_5a5a_5a5a_5a5aL);
        }
        assertThat(mm.pfnIfMapped(a + K4)).isEqualTo(-1);
        assertThat(uffd.faultsRaised()).isEqualTo(4);
        assertThat(uffd.pagesCopied()).isEqualTo(4);
        // the handler sleeps in read() while the vCPU faults, so each wait is exactly its chain of work: the
        // message's queue line and mmap_lock's count come from the vCPU's CPU, UFFDIO_COPY takes mmap_lock; the
        // first copy also fills the handler's per-CPU page list from the zone
        CostModel c = sched.costs();
        long chain = c.ns(Cost.UFFD_READ) + c.ns(Cost.IOCTL) + c.ns(Cost.HOST_PAGE_ALLOC) + c.ns(Cost.HOST_PAGE_COPY)
                + c.ns(Cost.UFFD_WAKE) + c.ns(Cost.LOCK) + 2 * c.ns(Cost.CACHELINE_TRANSFER);
        long refill = c.ns(Cost.LOCK) + PageAllocator.PCP_BATCH * c.ns(Cost.ZONE_LOCK_PAGE);
        assertThat(uffd.waitTimesNs()).containsExactly(chain + refill, chain, chain, chain);
    }

    /** Two handlers, four vCPUs faulting 16 pages each, on a scheduler of its own; returns waits and the end time. */
    private static long[] runMissingScenario(long seed) {
        SimScheduler s = Sims.attached(seed);
        HostMm m = new HostMm(s, new PhysMem());
        try {
            long a = m.mmap(64 * K4, Backing.ANON);
            Userfaultfd u = m.userfaultfd();
            u.register(a, 64 * K4, UffdMode.MISSING);
            List<SimThread> handlers = new ArrayList<>();
            for (int h = 0; h < 2; h++) {
                handlers.add(s.spawn("handler" + h, copyHandler(u, K4, (byte) 1, new ArrayList<>())));
            }
            List<SimThread> vcpus = new ArrayList<>();
            for (int v = 0; v < 4; v++) {
                int id = v;
                vcpus.add(s.spawn("vcpu" + v, () -> {
                    for (int p = 0; p < 16; p++) {
                        m.faultIn(a + (id * 16 + p) * K4, true);
                    }
                }));
            }
            for (SimThread t : vcpus) {
                s.join(t);
            }
            u.close();
            for (SimThread t : handlers) {
                s.join(t);
            }
            long[] waits = u.waitTimesNs();
            long[] out = java.util.Arrays.copyOf(waits, waits.length + 1);
            out[waits.length] = s.now();
            return out;
        } finally {
            m.close();
            s.close();
        }
    }

    @Test
    void twoHandlersAndFourVcpusReplayIdenticallyFromTheSeed() {
        long[] first = runMissingScenario(42);
        assertThat(first).hasSize(65);
        for (int i = 0; i < 3; i++) {
            assertThat(runMissingScenario(42)).containsExactly(first);
        }
    }

    @Test
    void eachMessageGoesToExactlyOneReader() {
        long a = mm.mmap(16 * K4, Backing.ANON);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(a, 16 * K4, UffdMode.MISSING);
        List<List<UffdMsg>> seen = new ArrayList<>();
        List<SimThread> handlers = new ArrayList<>();
        for (int h = 0; h < 3; h++) {
            List<UffdMsg> mine = new ArrayList<>();
            seen.add(mine);
            handlers.add(sched.spawn("handler" + h, copyHandler(uffd, K4, (byte) 2, mine)));
        }
        List<SimThread> vcpus = new ArrayList<>();
        for (int v = 0; v < 8; v++) {
            long page = a + 2L * v * K4;
            vcpus.add(sched.spawn("vcpu" + v, () -> mm.write(page + 8, 8, page)));
        }
        for (SimThread t : vcpus) {
            sched.join(t);
        }
        uffd.close();
        for (SimThread t : handlers) {
            sched.join(t);
        }
        List<Long> all = new ArrayList<>();
        seen.forEach(l -> l.forEach(m -> all.add(m.address())));
        assertThat(all).hasSize(8).doesNotHaveDuplicates();
        assertThat(seen).filteredOn(l -> !l.isEmpty()).hasSizeGreaterThan(1); // the readers shared the work
        for (int v = 0; v < 8; v++) {
            long page = a + 2L * v * K4;
            assertThat(mm.read(page + 8, 8)).isEqualTo(page); // the vCPU's store landed after the copy
            assertThat(mm.read(page, 1)).isEqualTo(2);
        }
    }

    @Test
    void twoFaultsOnOnePageGetTwoMessagesAndOneCopyWakesBoth() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(a, 4 * K4, UffdMode.MISSING);
        SimThread v0 = sched.spawn("vcpu0", () -> mm.faultIn(a, false));
        SimThread v1 = sched.spawn("vcpu1", () -> mm.faultIn(a + 8, true));
        UffdMsg m0 = uffd.read(Long.MAX_VALUE);
        UffdMsg m1 = uffd.read(Long.MAX_VALUE);
        assertThat(m0.address()).isEqualTo(a);
        assertThat(m1.address()).isEqualTo(a);
        assertThat(uffd.copy(a, K4, (byte) 3)).isEqualTo(K4);
        assertErrno(() -> uffd.copy(a, K4, (byte) 4), "UFFDIO_COPY", KvmErrno.EEXIST);
        sched.join(v0);
        sched.join(v1);
        assertThat(mm.read(a + 8, 1)).isEqualTo(3);
        assertThat(uffd.waitTimesNs()).hasSize(2);
    }

    @Test
    void minorFaultsWaitForContinueAndMapTheAliasPage() {
        MemFd f = new MemFd(phys, "guest", 4 * K4, K4);
        long primary = mm.mmap(4 * K4, f, 0);
        long alias = mm.mmap(4 * K4, f, 0);
        for (int i = 0; i < 4; i++) {
            mm.write(alias + i * K4, 8, 100 + i); // the selftest prefaults the page cache through the alias
        }
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(primary, 4 * K4, UffdMode.MINOR);
        List<UffdMsg> seen = new ArrayList<>();
        SimThread handler = sched.spawn("handler", () -> {
            for (UffdMsg m; (m = uffd.read(Long.MAX_VALUE)) != null;) {
                seen.add(m);
                uffd.cont(m.address(), K4);
            }
        });
        long[] values = new long[4];
        SimThread vcpu = sched.spawn("vcpu", () -> {
            for (int i = 0; i < 4; i++) {
                values[i] = phys.read(mm.faultIn(primary + i * K4, true).pfn(), 0, 8);
            }
        });
        sched.join(vcpu);
        uffd.close();
        sched.join(handler);
        assertThat(values).containsExactly(100, 101, 102, 103);
        assertThat(seen).allSatisfy(m -> assertThat(m.minor()).isTrue()).hasSize(4);
        assertThat(seen.get(0).flags()).isEqualTo(UffdMsg.UFFD_PAGEFAULT_FLAG_MINOR | UffdMsg.UFFD_PAGEFAULT_FLAG_WRITE);
        assertThat(uffd.minorFaults()).isEqualTo(4);
        assertThat(uffd.pagesContinued()).isEqualTo(4);
        assertThat(mm.pfnIfMapped(primary + 3 * K4)).isEqualTo(mm.pfnIfMapped(alias + 3 * K4));
    }

    @Test
    void hugetlbFaultsReportTheHugePageAndResolveWhole() {
        long h = mm.mmap(2 * M2, Backing.ANON_HUGETLB_2M);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(h, 2 * M2, UffdMode.MISSING);
        List<UffdMsg> seen = new ArrayList<>();
        SimThread handler = sched.spawn("handler", copyHandler(uffd, M2, (byte) 9, seen));
        SimThread vcpu = sched.spawn("vcpu", () -> mm.faultIn(h + M2 + 0x3456, true));
        sched.join(vcpu);
        uffd.close();
        sched.join(handler);
        assertThat(seen).singleElement().satisfies(m -> {
            assertThat(m.address()).isEqualTo(h + M2);
            assertThat(m.realAddress()).isEqualTo(h + M2 + 0x3456);
        });
        assertThat(mm.mappingLevel(h + M2)).isEqualTo(HostPageTable.PG_LEVEL_2M);
        assertThat(mm.read(h + 2 * M2 - 8, 8)).isEqualTo(0x0909_0909_0909_0909L);
    }

    @Test
    void aFaultWaitingWhileItsRangeIsUnregisteredRetriesAsAnOrdinaryFault() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(a, 4 * K4, UffdMode.MISSING);
        FaultResult[] result = new FaultResult[1];
        SimThread vcpu = sched.spawn("vcpu", () -> result[0] = mm.faultIn(a + K4, true));
        UffdMsg m = uffd.read(Long.MAX_VALUE);
        assertThat(m.address()).isEqualTo(a + K4);
        assertThat(mm.pfnIfMapped(a + K4)).isEqualTo(-1);
        uffd.unregister(a, 4 * K4);
        sched.join(vcpu);
        assertThat(result[0].mappingLevel()).isEqualTo(HostPageTable.PG_LEVEL_4K);
        assertThat(phys.read(result[0].pfn(), 0, 8)).isZero();
        assertThat(uffd.pagesCopied()).isZero();
        assertThat(uffd.waitTimesNs()).hasSize(1);
    }

    @Test
    void unregisteringAMinorRangeLeavesItsWaitersAsleepUntilAWake() {
        MemFd f = new MemFd(phys, "guest", 2 * K4, K4);
        long primary = mm.mmap(2 * K4, f, 0);
        long alias = mm.mmap(2 * K4, f, 0);
        mm.write(alias, 8, 7);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(primary, 2 * K4, UffdMode.MINOR);
        long[] value = {-1};
        SimThread vcpu = sched.spawn("vcpu", () -> value[0] = mm.read(primary, 8));
        assertThat(uffd.read(Long.MAX_VALUE).minor()).isTrue();
        uffd.unregister(primary, 2 * K4);
        sched.sleep(1_000_000); // plenty of time for a woken thread to run: it is not woken (6.12)
        assertThat(vcpu.isDone()).isFalse();
        assertThat(value[0]).isEqualTo(-1);
        uffd.wake(primary, K4);
        sched.join(vcpu);
        assertThat(value[0]).isEqualTo(7);
    }

    @Test
    void closingWakesReadersWithNullAndFaultsRetryNormally() {
        long a = mm.mmap(4 * K4, Backing.ANON);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(a, 4 * K4, UffdMode.MISSING);
        SimThread vcpu = sched.spawn("vcpu", () -> mm.write(a, 8, 0xabc));
        sched.sleep(100_000);
        UffdMsg[] got = {null, null};
        SimThread reader = sched.spawn("reader", () -> {
            got[0] = uffd.read(Long.MAX_VALUE); // takes the vCPU's message
            got[1] = uffd.read(Long.MAX_VALUE); // blocks until close
        });
        sched.sleep(100_000);
        assertThat(reader.isDone()).isFalse();
        assertThat(vcpu.isDone()).isFalse();
        uffd.close();
        sched.join(reader);
        sched.join(vcpu);
        assertThat(got[0].address()).isEqualTo(a);
        assertThat(got[1]).isNull();
        assertThat(mm.read(a, 8)).isEqualTo(0xabc);
    }

    @Test
    void aTimedReadReturnsTheMessageThatArrivesBeforeTheDeadline() {
        long a = mm.mmap(K4, Backing.ANON);
        Userfaultfd uffd = mm.userfaultfd();
        uffd.register(a, K4, UffdMode.MISSING);
        long start = sched.now();
        SimThread vcpu = sched.spawn("vcpu", () -> {
            sched.sleep(50_000);
            mm.faultIn(a, false);
        });
        assertThat(uffd.read(start + 10_000)).isNull();
        assertThat(sched.now()).isEqualTo(start + 10_000);
        UffdMsg m = uffd.read(start + 1_000_000);
        assertThat(m).isNotNull();
        assertThat(sched.now()).isLessThan(start + 100_000);
        uffd.zeropage(m.address(), K4);
        sched.join(vcpu);
    }
}
