// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.oracle.Violation;
import dev.kvmharness.mmu.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generates and replays random MMU histories on an {@link MmuWorld}: accesses biased towards a few hot pages
 * (so TLBs hold what later operations take away) mixed with every operation that takes translations away, on
 * slot layouts that make huge pages allowed, partly allowed (gpa and hva misaligned to each other, slots that
 * are not a multiple of 2 MiB), 1 GiB-eligible, or read-only, and over a gpa range whose memslot comes and
 * goes while MMIO SPTEs for it are cached.
 */
public final class MmuHistory {
    /** KVM_MEM_LOG_DIRTY_PAGES. */
    static final int LOG_DIRTY = 1;

    /** How a history's VM is configured; drawn with the history. */
    public record Setup(boolean nxHugePages, boolean manualProtect, boolean initiallySet, boolean slotZapAllQuirk,
                        int yieldEvery, int vcpus, MmuWorld.Layout layout) {
    }

    public record Case(Setup setup, List<MmuOp> ops) {
    }

    private MmuHistory() {
    }

    /** A slot-1 layout: mostly the standard one, else each kind of misalignment and backing in turn. */
    static MmuWorld.Layout layout(SplittableRandom r) {
        boolean ro = r.nextInt(4) == 0;
        long std = MmuWorld.SLOT1_SIZE >>> 12;
        return switch (r.nextInt(8)) {
            // gpa and hva skewed differently: no huge page is allowed anywhere in the slot
            case 0 -> new MmuWorld.Layout(MmuWorld.SLOT1_GPA, std, 0, 1 + r.nextInt(511), Backing.ANON_THP, ro);
            // both skewed alike, and a size that is no multiple of 2 MiB: only the partial ends are disallowed
            case 1 -> {
                int skew = 1 + r.nextInt(511);
                yield new MmuWorld.Layout(MmuWorld.SLOT1_GPA, std - 1 - r.nextInt(511), skew, skew, Backing.ANON_THP, ro);
            }
            case 2 -> new MmuWorld.Layout(MmuWorld.SLOT1_GPA, std, 0, 0, Backing.ANON_HUGETLB_2M, ro);
            // a 1 GiB-eligible slot: gigantic hugetlb pages, 1 GiB aligned (at 4 GiB, clear of slots 2 and 3)
            case 3 -> new MmuWorld.Layout(4L << 30, 1L << 18, 0, 0, Backing.ANON_HUGETLB_1G, ro);
            default -> new MmuWorld.Layout(MmuWorld.SLOT1_GPA, std, 0, 0, Backing.ANON_THP, ro);
        };
    }

    static Setup setup(SplittableRandom r, int maxVcpus) {
        return new Setup(r.nextBoolean(), r.nextInt(3) == 0, r.nextBoolean(), r.nextBoolean(),
                r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(8), 1 + r.nextInt(maxVcpus), layout(r));
    }

    public static Case generate(SplittableRandom r, int length) {
        Setup s = setup(r, 3);
        List<MmuOp> ops = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            ops.add(op(r, s));
        }
        return new Case(s, ops);
    }

    /** One random operation for a VM set up as {@code s}. */
    static MmuOp op(SplittableRandom r, Setup s) {
        int slot1Pages = (int) s.layout().pages();
        int slot2Pages = (int) (MmuWorld.SLOT2_SIZE >>> 12);
        int k = r.nextInt(100);
        if (k < 55) {
            int which = r.nextInt(10);
            int slot = which < 7 ? 1 : which < 9 ? 2 : 3;
            int pages = slot == 1 ? slot1Pages : slot2Pages;
            // hot pages: the first few of a few 2 MiB regions, and the slot's last pages (its partial tail)
            int page = switch (r.nextInt(6)) {
                case 0, 1, 2 -> r.nextInt(8) * 64 % pages + r.nextInt(4);
                case 3 -> pages - 1 - r.nextInt(Math.min(pages, 8));
                default -> r.nextInt(pages);
            };
            return new MmuOp.Access(r.nextInt(s.vcpus()), slot, page % pages, r.nextBoolean(), r.nextInt(6) == 0);
        } else if (k < 61) {
            return new MmuOp.Dontneed(r.nextInt(8) * 64 % slot1Pages + r.nextInt(4), 1 + r.nextInt(600));
        } else if (k < 64) {
            return new MmuOp.Age();
        } else if (k < 67) {
            return new MmuOp.MoveSlot2(r.nextBoolean() ? 512 : -512);
        } else if (k < 70) {
            return new MmuOp.DeleteRecreateSlot2();
        } else if (k < 73) {
            return new MmuOp.ToggleSlot3();
        } else if (k < 79) {
            return new MmuOp.ToggleDirtyLog();
        } else if (k < 85) {
            return new MmuOp.GetDirtyLog();
        } else if (k < 89) {
            return new MmuOp.ClearDirtyLog(r.nextLong());
        } else if (k < 93) {
            return new MmuOp.NxRecover();
        } else if (k < 96) {
            return new MmuOp.ZapAllFast();
        }
        return new MmuOp.ZapGfnRange(r.nextInt(slot1Pages), 1 + r.nextInt(700));
    }

    public static SimConfig config(Setup s, Policy policy) {
        return SimConfig.defaults().withPolicy(policy).withNxHugePages(s.nxHugePages()).withSlotZapAllQuirk(s.slotZapAllQuirk())
                .withYieldEvery(s.yieldEvery()).withOracle(true);
    }

    static MmuWorld world(Setup s, Policy policy, long seed) {
        MmuWorld w = new MmuWorld(seed, config(s, policy), s.vcpus(), s.layout());
        if (s.manualProtect()) {
            w.kvm.enableManualDirtyLogProtect(s.initiallySet());
        }
        return w;
    }

    /** Replays {@code c} under {@code policy}; returns what the oracle found plus the invariant failures. */
    public static List<String> run(Case c, Policy policy, long seed) {
        List<String> problems = new ArrayList<>();
        try (MmuWorld w = world(c.setup(), policy, seed)) {
            for (MmuOp op : c.ops()) {
                apply(w, op);
                String coverage = w.oracle.checkDirtyLogCoverage();
                if (coverage != null) {
                    problems.add("dirty log after " + op + ": " + coverage);
                }
            }
            finish(w, problems);
        }
        return problems;
    }

    /** The end-of-history checks: the oracle's findings, pages_*, balanced invalidations, a clean teardown. */
    static void finish(MmuWorld w, List<String> problems) {
        for (Violation v : w.oracle.violations()) {
            problems.add(v.toString());
        }
        String stats = w.oracle.checkPageStats();
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

    static void apply(MmuWorld w, MmuOp op) {
        if (op instanceof MmuOp.Access a) {
            long base = switch (a.slot()) {
                case 1 -> w.slot1Gpa;
                case 2 -> w.slot2Gpa < 0 ? MmuWorld.SLOT2_GPA : w.slot2Gpa;
                default -> MmuWorld.SLOT3_GPA;
            };
            w.access(a.vcpu(), base + ((long) a.page() << 12), a.write(), a.exec());
        } else if (op instanceof MmuOp.Dontneed d) {
            // hugetlb: the start must be huge-page aligned (the kernel rounds the end down itself)
            long unit = w.layout.backing().pageSize() >>> 12;
            long page = d.page() / unit * unit;
            long pages = Math.min(d.pages(), w.slot1Pages - page);
            if (pages > 0) {
                w.mm.madviseDontneed(w.hva1 + (page << 12), pages << 12);
            }
        } else if (op instanceof MmuOp.Age) {
            w.mm.ageRange(w.hva1, w.hva1 + (w.slot1Pages << 12));
        } else if (op instanceof MmuOp.MoveSlot2 m) {
            if (w.slot2Gpa < 0) {
                return;
            }
            long to = w.slot2Gpa == MmuWorld.SLOT2_GPA ? MmuWorld.SLOT2_GPA + ((long) m.deltaPages() << 12) : MmuWorld.SLOT2_GPA;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, w.slot2Flags, to, MmuWorld.SLOT2_SIZE, w.hva2));
            w.slot2Gpa = to;
        } else if (op instanceof MmuOp.DeleteRecreateSlot2) {
            if (w.slot2Gpa >= 0) {
                w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, 0, w.slot2Gpa, 0, w.hva2));
                w.slot2Gpa = -1;
            } else {
                w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT2, w.slot2Flags, MmuWorld.SLOT2_GPA, MmuWorld.SLOT2_SIZE, w.hva2));
                w.slot2Gpa = MmuWorld.SLOT2_GPA;
            }
        } else if (op instanceof MmuOp.ToggleSlot3) {
            w.toggleSlot3();
        } else if (op instanceof MmuOp.ToggleDirtyLog) {
            w.slot1Flags ^= LOG_DIRTY;
            w.memslots.set(MemslotRequest.v1(MmuWorld.SLOT1, w.slot1Flags, w.slot1Gpa, w.slot1Pages << 12, w.hva1));
        } else if (op instanceof MmuOp.GetDirtyLog) {
            if ((w.slot1Flags & LOG_DIRTY) != 0) {
                w.dirtyLog.get(MmuWorld.SLOT1);
            }
        } else if (op instanceof MmuOp.ClearDirtyLog c) {
            if ((w.slot1Flags & LOG_DIRTY) != 0 && w.kvm.manualDirtyLogProtect()) {
                w.dirtyLog.clear(MmuWorld.SLOT1, 0, 64, new long[] {c.mask()});
            }
        } else if (op instanceof MmuOp.NxRecover) {
            w.kvm.nxRecovery().recover();
        } else if (op instanceof MmuOp.ZapAllFast) {
            w.kvm.zapAllFast();
            w.oracle.checkpoint("kvm_mmu_zap_all_fast");
        } else if (op instanceof MmuOp.ZapGfnRange z) {
            long start = (w.slot1Gpa >>> 12) + z.page();
            w.kvm.zapGfnRange(start, start + z.pages());
        }
    }
}
