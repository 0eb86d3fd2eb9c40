// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.MemslotLimits;
import dev.kvmharness.mmu.memslot.MemslotRequestCheck;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code Memslots.view()}, the indexed lookups KVM_SET_USER_MEMORY_REGION checks against, answers as the list
 * scan does, over random creates, moves and deletes of overlapping-prone slots; and thousands of slots check
 * in linear time.
 */
class MemslotsViewTest {
    @Test
    void theIndexedViewAgreesWithTheListScan() {
        try (MmuWorld w = new MmuWorld(5, SimConfig.defaults(), 1)) {
            MemslotLimits limits = MemslotLimits.x86Default(48);
            MemslotRequestCheck.SlotView listed = MemslotRequestCheck.SlotView.of(w.kvm.memslots()::slots, limits);
            MemslotRequestCheck.SlotView indexed = w.kvm.memslots().view();
            SplittableRandom rnd = new SplittableRandom(7);
            long hva = w.mm.mmap(64L << 21, dev.kvmharness.mmu.host.Backing.ANON);
            int accepted = 0;
            for (int i = 0; i < 2000; i++) {
                int id = 3 + rnd.nextInt(20);
                long gfn = rnd.nextInt(256) * 256L;
                long pages = rnd.nextInt(4) == 0 ? 0 : 256L * rnd.nextInt(1, 4);
                try {
                    w.memslots.set(MemslotRequest.v1(id, 0, gfn << 12, pages << 12, hva + (id % 16) * (4L << 20)));
                    accepted++;
                } catch (SimKvmException e) {
                    // EEXIST and EINVAL are part of the mix.
                }
                long start = rnd.nextInt(256 * 256);
                long end = start + rnd.nextInt(1, 2048);
                int probe = rnd.nextInt(25);
                assertThat(indexed.overlapping(0, probe, start, end) != null)
                        .as("overlap of [0x%x, 0x%x) except slot %d", start, end, probe)
                        .isEqualTo(listed.overlapping(0, probe, start, end) != null);
                assertThat(indexed.byId(0, probe)).isEqualTo(listed.byId(0, probe));
                assertThat(indexed.totalPages()).isEqualTo(listed.totalPages());
            }
            assertThat(accepted).as("requests the model accepted").isGreaterThan(200);
        }
    }

    @Test
    void everySlotIdCanBeFilledQuickly() {
        try (MmuWorld w = new MmuWorld(5, SimConfig.defaults(), 1)) {
            long hva = w.mm.mmap(MemslotLimits.X86_USER_MEM_SLOTS * 4096L + 4096, dev.kvmharness.mmu.host.Backing.ANON);
            long t0 = System.nanoTime();
            // Slots 1 and 2 exist already; fill the others of KVM_USER_MEM_SLOTS, then one more is EINVAL.
            for (int id = 0; id < MemslotLimits.X86_USER_MEM_SLOTS; id++) {
                if (id == MmuWorld.SLOT1 || id == MmuWorld.SLOT2) {
                    continue;
                }
                w.memslots.set(MemslotRequest.v1(id, 0, (1L << 40) + id * 4096L, 4096, hva + id * 4096L));
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(w.kvm.memslots().count()).isEqualTo(MemslotLimits.X86_USER_MEM_SLOTS);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> w.memslots.set(MemslotRequest.v1(
                    MemslotLimits.X86_USER_MEM_SLOTS, 0, 1L << 41, 4096, hva))).hasMessageContaining("EINVAL");
            // A quadratic check took tens of seconds here; the indexed one takes well under one.
            assertThat(ms).as("ms to fill every slot").isLessThan(15_000);
        }
    }
}
