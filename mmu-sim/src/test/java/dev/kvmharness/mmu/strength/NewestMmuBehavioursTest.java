// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.policy.Behaviour;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.spte.Spte;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The TDP MMU changes of 6.13 and 6.15, each switched the other way on the same VM: what the kernel stopped
 * doing (a flush, a lock, a zap) must show where a test can see it, so a behaviour wired to nothing fails here.
 */
class NewestMmuBehavioursTest {
    /** Slot 1 is 8 MiB of THP: four 2 MiB huge pages once the guest touched them. */
    private static final int HUGE_PAGES = 4;

    private static MmuWorld world(String policy) {
        return new MmuWorld(23, SimConfig.defaults().withPolicy(Policy.parse(policy)).withOracle(true), 1);
    }

    private static long gpa(int page) {
        return MmuWorld.SLOT1_GPA + ((long) page << 12);
    }

    @Test
    void agingWithoutAFlushLeavesCachedTranslationsWhoseAccessesTheAccessedBitMisses() {
        for (String policy : new String[] {"6.13", "6.13,-age_without_flush"}) {
            try (MmuWorld w = world(policy)) {
                boolean elided = w.kvm.policy().has(Behaviour.AGE_WITHOUT_FLUSH);
                assertThat(Guest.read(w, 0, gpa(5), new long[1])).isNull();
                long flushes = w.kvm.stats().remoteTlbFlushRequests;
                assertThat(w.mm.ageRange(w.hva1, w.hva1 + MmuWorld.SLOT1_SIZE)).as("%s: the guest just read slot 1", policy).isTrue();
                assertThat(w.kvm.stats().remoteTlbFlushRequests - flushes).as("%s: clear_flush_young's flushes", policy)
                        .isEqualTo(elided ? 0 : 1);
                assertThat(Guest.read(w, 0, gpa(5), new long[1])).isNull();
                assertThat(w.mm.testYoung(w.hva1 + 5 * 4096))
                        .as("%s: the read after aging %s", policy, elided ? "hit the TLB entry aging left, so the SPTE stays old"
                                : "walked the EPT again after the flush and set Accessed")
                        .isEqualTo(!elided);
                assertThat(w.oracle.staleAccessedUses()).as("%s: accesses the Accessed bit missed", policy).isEqualTo(elided ? 1 : 0);
                assertThat(w.oracle.violations()).as("%s: a stale Accessed bit is tolerated, not a stale translation", policy).isEmpty();
            }
        }
    }

    @Test
    void locklessAgingTakesNoMmuLock() {
        for (String policy : new String[] {"6.15", "6.15,-lockless_aging"}) {
            try (MmuWorld w = world(policy)) {
                boolean lockless = w.kvm.policy().has(Behaviour.LOCKLESS_AGING);
                assertThat(Guest.read(w, 0, gpa(5), new long[1])).isNull();
                long locked = w.kvm.notifier().lockedCallbacks();
                long acquisitions = w.kvm.mmuLock().acquisitions();
                assertThat(w.mm.clearYoungRange(w.hva1, w.hva1 + MmuWorld.SLOT1_SIZE)).isTrue();
                assertThat(w.mm.testYoung(w.hva1 + 5 * 4096)).as("%s: clear_young cleared it", policy).isFalse();
                assertThat(w.mm.ageRange(w.hva1, w.hva1 + MmuWorld.SLOT1_SIZE)).isFalse();
                assertThat(w.kvm.mmuLock().acquisitions() - acquisitions).as("%s: mmu_lock taken by three aging callbacks", policy)
                        .isEqualTo(lockless ? 0 : 3);
                assertThat(w.kvm.notifier().lockedCallbacks() - locked).isEqualTo(lockless ? 0 : 3);
            }
        }
    }

    /**
     * Lockless aging reads an SPTE, and other CPUs may change it before the atomic AND clears the Accessed bit.
     * Here MADV_DONTNEED unmaps the whole slot in the middle of an aging pass over it: the AND must land on the
     * zapped SPTE and leave it zapped. An ager writing back what it read would map freed pages again.
     */
    @Test
    void locklessAgingRacingAZapLeavesTheSpteZapped() {
        try (MmuWorld w = new MmuWorld(29, SimConfig.defaults().withPolicy(Policy.newest()).withOracle(true), 1,
                new MmuWorld.Layout(MmuWorld.SLOT1_GPA, MmuWorld.SLOT1_SIZE >>> 12, 0, 0, dev.kvmharness.mmu.host.Backing.ANON, false))) {
            for (int page = 0; page < 512; page++) {
                assertThat(Guest.write(w, 0, gpa(page), page)).isNull();
            }
            long start = w.sched.now();
            boolean[] young = new boolean[1];
            List<SimThread> threads = List.of(
                    w.sched.spawn("reclaim", () -> young[0] = w.mm.ageRange(w.hva1, w.hva1 + MmuWorld.SLOT1_SIZE)),
                    w.sched.spawn("vmm", () -> {
                        w.sched.sleep(2_000);
                        w.mm.madviseDontneed(w.hva1, MmuWorld.SLOT1_SIZE);
                    }));
            assertThat(w.joinAll(threads)).isEmpty();
            assertThat(young[0]).isTrue();
            assertThat(w.kvm.notifier().callbacks()).as("both ran").isGreaterThanOrEqualTo(3);
            assertThat(Guest.stillMapped(w.kvm, w.slot1Gpa >>> 12, (w.slot1Gpa >>> 12) + 512))
                    .as("an SPTE the zap cleared while aging was between its read and its AND").isNull();
            assertThat(w.oracle.checkPageStats()).isNull();
            assertThat(w.oracle.violations()).isEmpty();
            assertThat(w.sched.now() - start).as("virtual time the race took").isPositive();
        }
    }

    /** Populates slot 1 with huge pages, logs it dirty (eager split to 4K), writes a page of each, stops logging. */
    private static void logAndStop(MmuWorld w) {
        for (int i = 0; i < HUGE_PAGES; i++) {
            assertThat(Guest.write(w, 0, gpa(i * 512), i)).isNull();
        }
        assertThat(w.kvm.stats().pages[Spte.PG_LEVEL_2M]).as("the slot is mapped by huge pages").isEqualTo(HUGE_PAGES);
        setFlags(w, Memslot.KVM_MEM_LOG_DIRTY_PAGES);
        for (int i = 0; i < HUGE_PAGES; i++) {
            assertThat(Guest.write(w, 0, gpa(i * 512 + 7), i)).isNull();
        }
        assertThat(w.kvm.stats().pages[Spte.PG_LEVEL_2M]).as("dirty logging split them").isZero();
        setFlags(w, 0);
    }

    private static void setFlags(MmuWorld w, int flags) {
        w.slot1Flags = flags;
        w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, flags, w.slot1Gpa, w.slot1Pages << 12, w.hva1));
    }

    @Test
    void batchedCollapsibleZapFlushesOncePerRootNotOncePerTable() {
        for (String policy : new String[] {"6.12,+batch_collapsible_zap_flush", "6.12"}) {
            try (MmuWorld w = world(policy)) {
                boolean batched = w.kvm.policy().has(Behaviour.BATCH_COLLAPSIBLE_ZAP_FLUSH);
                for (int i = 0; i < HUGE_PAGES; i++) {
                    assertThat(Guest.write(w, 0, gpa(i * 512), i)).isNull();
                }
                setFlags(w, Memslot.KVM_MEM_LOG_DIRTY_PAGES);
                long before = w.kvm.stats().remoteTlbFlushRequests;
                setFlags(w, 0);
                assertThat(w.kvm.stats().remoteTlbFlushRequests - before).as("%s: flushes disabling dirty logging", policy)
                        .isEqualTo(batched ? 1 : HUGE_PAGES);
                assertThat(w.kvm.stats().pages[Spte.PG_LEVEL_4K]).as("%s: the split tables are zapped", policy).isZero();
                assertThat(w.oracle.violations()).isEmpty();
            }
        }
    }

    @Test
    void inPlaceRecoveryMapsTheHugePagesAgainWithoutAFault() {
        for (String policy : new String[] {"6.13", "6.13,-recover_huge_pages_in_place"}) {
            try (MmuWorld w = world(policy)) {
                boolean inPlace = w.kvm.policy().has(Behaviour.RECOVER_HUGE_PAGES_IN_PLACE);
                logAndStop(w);
                assertThat(w.kvm.stats().pages[Spte.PG_LEVEL_2M]).as("%s: huge pages right after logging stopped", policy)
                        .isEqualTo(inPlace ? HUGE_PAGES : 0);
                long faults = w.vcpus.get(0).stats().pfTaken;
                long[] value = new long[1];
                for (int i = 0; i < HUGE_PAGES; i++) {
                    assertThat(Guest.read(w, 0, gpa(i * 512 + 7), value)).isNull();
                    assertThat(value[0]).as("%s: the write made while logging is still there", policy).isEqualTo(i);
                }
                assertThat(w.vcpus.get(0).stats().pfTaken - faults).as("%s: EPT violations taken to reach the memory again", policy)
                        .isEqualTo(inPlace ? 0 : HUGE_PAGES);
                assertThat(w.leafLevel(0, gpa(7))).isEqualTo(Spte.PG_LEVEL_2M);
                assertThat(w.oracle.violations()).isEmpty();
                assertThat(w.oracle.checkPageStats()).isNull();
            }
        }
    }
}
