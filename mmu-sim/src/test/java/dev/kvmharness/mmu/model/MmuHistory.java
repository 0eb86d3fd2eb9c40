// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.oracle.Violation;
import dev.kvmharness.mmu.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generates and replays random MMU histories on an {@link MmuWorld}: accesses biased towards a few hot pages
 * (so TLBs hold what later operations take away) mixed with every operation that takes translations away.
 */
public final class MmuHistory {
    /** KVM_MEM_LOG_DIRTY_PAGES. */
    static final int LOG_DIRTY = 1;

    /** How a history's VM is configured; drawn with the history. */
    public record Setup(boolean nxHugePages, boolean manualProtect, boolean initiallySet, boolean slotZapAllQuirk,
                        int yieldEvery, int vcpus) {
    }

    public record Case(Setup setup, List<MmuOp> ops) {
    }

    private MmuHistory() {
    }

    public static Case generate(SplittableRandom r, int length) {
        Setup s = new Setup(r.nextBoolean(), r.nextInt(3) == 0, r.nextBoolean(), r.nextBoolean(),
                r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(8), 1 + r.nextInt(3));
        List<MmuOp> ops = new ArrayList<>();
        int slot1Pages = (int) (MmuWorld.SLOT1_SIZE >>> 12);
        int slot2Pages = (int) (MmuWorld.SLOT2_SIZE >>> 12);
        for (int i = 0; i < length; i++) {
            int k = r.nextInt(100);
            if (k < 55) {
                boolean s1 = r.nextInt(4) != 0;
                int pages = s1 ? slot1Pages : slot2Pages;
                int page = r.nextInt(3) != 0 ? r.nextInt(8) * 64 % pages + r.nextInt(4) : r.nextInt(pages);
                ops.add(new MmuOp.Access(r.nextInt(s.vcpus()), s1 ? 1 : 2, page % pages, r.nextBoolean(), r.nextInt(6) == 0));
            } else if (k < 62) {
                ops.add(new MmuOp.Dontneed(r.nextInt(8) * 64 % slot1Pages + r.nextInt(4), 1 + r.nextInt(600)));
            } else if (k < 65) {
                ops.add(new MmuOp.Age());
            } else if (k < 69) {
                ops.add(new MmuOp.MoveSlot2(r.nextBoolean() ? 512 : -512));
            } else if (k < 72) {
                ops.add(new MmuOp.DeleteRecreateSlot2());
            } else if (k < 79) {
                ops.add(new MmuOp.ToggleDirtyLog());
            } else if (k < 85) {
                ops.add(new MmuOp.GetDirtyLog());
            } else if (k < 89) {
                ops.add(new MmuOp.ClearDirtyLog(r.nextLong()));
            } else if (k < 93) {
                ops.add(new MmuOp.NxRecover());
            } else if (k < 96) {
                ops.add(new MmuOp.ZapAllFast());
            } else {
                ops.add(new MmuOp.ZapGfnRange(r.nextInt(slot1Pages), 1 + r.nextInt(700)));
            }
        }
        return new Case(s, ops);
    }

    public static SimConfig config(Setup s, Policy policy) {
        return SimConfig.defaults().withPolicy(policy).withNxHugePages(s.nxHugePages()).withSlotZapAllQuirk(s.slotZapAllQuirk())
                .withYieldEvery(s.yieldEvery()).withOracle(true);
    }

    /** Replays {@code c} under {@code policy}; returns what the oracle found plus the invariant failures. */
    public static List<String> run(Case c, Policy policy, long seed) {
        List<String> problems = new ArrayList<>();
        try (MmuWorld w = new MmuWorld(seed, config(c.setup(), policy), c.setup().vcpus())) {
            if (c.setup().manualProtect()) {
                w.kvm.enableManualDirtyLogProtect(c.setup().initiallySet());
            }
            for (MmuOp op : c.ops()) {
                apply(w, op);
                String coverage = w.kvm.oracle().checkDirtyLogCoverage();
                if (coverage != null) {
                    problems.add("dirty log after " + op + ": " + coverage);
                }
            }
            for (Violation v : w.kvm.oracle().violations()) {
                problems.add(v.toString());
            }
            String stats = w.kvm.oracle().checkPageStats();
            if (stats != null) {
                problems.add("page stats: " + stats);
            }
            if (w.kvm.invalidate().inProgress() != 0) {
                problems.add("mmu_invalidate_in_progress left at " + w.kvm.invalidate().inProgress());
            }
            w.kvm.close();
            // kvm_mmu_uninit_tdp_mmu() WARNs unless every root and table is gone.
            if (!w.kvm.tdpMmu().roots().isEmpty() || w.kvm.tdpMmu().tdpMmuPages() != 0) {
                problems.add("after VM destruction: " + w.kvm.tdpMmu().roots().size() + " roots, "
                        + w.kvm.tdpMmu().tdpMmuPages() + " tables left");
            }
        }
        return problems;
    }

    static void apply(MmuWorld w, MmuOp op) {
        if (op instanceof MmuOp.Access a) {
            long base = a.slot() == 1 ? MmuWorld.SLOT1_GPA : w.slot2Gpa;
            if (base < 0) {
                base = MmuWorld.SLOT2_GPA;
            }
            w.access(a.vcpu(), base + ((long) a.page() << 12), a.write(), a.exec());
        } else if (op instanceof MmuOp.Dontneed d) {
            long pages = Math.min(d.pages(), (MmuWorld.SLOT1_SIZE >>> 12) - d.page());
            if (pages > 0) {
                w.mm.madviseDontneed(w.hva1 + ((long) d.page() << 12), pages << 12);
            }
        } else if (op instanceof MmuOp.Age a) {
            w.mm.ageRange(w.hva1, w.hva1 + MmuWorld.SLOT1_SIZE);
        } else if (op instanceof MmuOp.MoveSlot2 m) {
            if (w.slot2Gpa < 0) {
                return;
            }
            long to = w.slot2Gpa == MmuWorld.SLOT2_GPA ? MmuWorld.SLOT2_GPA + ((long) m.deltaPages() << 12) : MmuWorld.SLOT2_GPA;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, to, MmuWorld.SLOT2_SIZE, w.hva2));
            w.slot2Gpa = to;
        } else if (op instanceof MmuOp.DeleteRecreateSlot2 d) {
            if (w.slot2Gpa >= 0) {
                w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, w.slot2Gpa, 0, w.hva2));
                w.slot2Gpa = -1;
            } else {
                w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, MmuWorld.SLOT2_GPA, MmuWorld.SLOT2_SIZE, w.hva2));
                w.slot2Gpa = MmuWorld.SLOT2_GPA;
            }
        } else if (op instanceof MmuOp.ToggleDirtyLog t) {
            w.slot1Flags ^= LOG_DIRTY;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, w.slot1Flags, MmuWorld.SLOT1_GPA, MmuWorld.SLOT1_SIZE, w.hva1));
        } else if (op instanceof MmuOp.GetDirtyLog g) {
            if ((w.slot1Flags & LOG_DIRTY) != 0) {
                w.dirtyLog.get(MmuWorld.SLOT1);
            }
        } else if (op instanceof MmuOp.ClearDirtyLog c) {
            if ((w.slot1Flags & LOG_DIRTY) != 0 && w.kvm.manualDirtyLogProtect()) {
                w.dirtyLog.clear(MmuWorld.SLOT1, 0, 64, new long[] {c.mask()});
            }
        } else if (op instanceof MmuOp.NxRecover n) {
            w.kvm.nxRecovery().recover();
        } else if (op instanceof MmuOp.ZapAllFast z) {
            w.kvm.zapAllFast();
            w.kvm.oracle().checkpoint("kvm_mmu_zap_all_fast");
        } else if (op instanceof MmuOp.ZapGfnRange z) {
            long start = (MmuWorld.SLOT1_GPA >>> 12) + z.page();
            w.kvm.zapGfnRange(start, start + z.pages());
        }
    }
}
