// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.DirtyLog;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.MemslotLimits;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.memslot.MemslotUpdate;
import dev.kvmharness.mmu.oracle.StaleTranslationOracle;
import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import dev.kvmharness.mmu.tdp.EptWalk;
import java.util.ArrayList;
import java.util.List;

/**
 * A small simulated VM for tests that drive the MMU directly: slot 1 (THP- or hugetlb-backed so huge pages
 * happen, placed by a {@link Layout} that may misalign it), slot 2 (4K, optionally read-only), and a gpa range
 * (slot 3's) that starts out backed by no memslot, so its accesses become MMIO exits and cached MMIO SPTEs. A
 * few vCPUs with paging off (gva == gpa). The calling thread is adopted by the scheduler; accesses are made
 * one at a time on whatever simulated thread calls {@link #access}, as a vCPU's KVM_RUN would make them.
 */
public final class MmuWorld implements AutoCloseable {
    public static final long SLOT1_GPA = 1L << 30;
    public static final long SLOT1_SIZE = 8L << 20;
    public static final long SLOT2_GPA = 2L << 30;
    public static final long SLOT2_SIZE = 2L << 20;
    public static final long SLOT3_GPA = 3L << 30;
    public static final long SLOT3_SIZE = 2L << 20;
    public static final int SLOT1 = 1;
    public static final int SLOT2 = 2;
    public static final int SLOT3 = 3;
    private static final long HUGE_2M = 1L << 21;

    /**
     * Where slot 1 lies and what backs it. {@code gpaSkewPages} moves its base gfn off a 2 MiB boundary,
     * {@code hvaSkewPages} its host address (equal skews keep gpa and hva congruent, so only the partial huge
     * pages at the ends are disallowed; different skews disallow every huge page), and {@code pages} need not
     * be a multiple of 512.
     */
    public record Layout(long gpa, long pages, int gpaSkewPages, int hvaSkewPages, Backing backing, boolean slot2ReadOnly) {
        public static Layout standard() {
            return new Layout(SLOT1_GPA, SLOT1_SIZE >>> 12, 0, 0, Backing.ANON_THP, false);
        }

        public long slot1Gpa() {
            return gpa + ((long) gpaSkewPages << 12);
        }

        /** The host mapping slot 1 needs: room for the skew, whole huge pages for hugetlb. */
        long mappingSize() {
            long len = ((long) hvaSkewPages + pages) << 12;
            long unit = Math.max(backing.pageSize(), HUGE_2M);
            return (len + unit - 1) / unit * unit;
        }
    }

    public final SimScheduler sched;
    public final PhysMem phys;
    public final HostMm mm;
    public final SimKvm kvm;
    /** The stale-translation oracle, attached to {@link #kvm}. */
    public final StaleTranslationOracle oracle;
    public final MemslotUpdate memslots;
    public final DirtyLog dirtyLog;
    public final List<SimVcpu> vcpus = new ArrayList<>();
    public final Layout layout;
    /** Slot 1's host address (the mapping plus the layout's skew). */
    public final long hva1;
    public final long hva2;
    public final long hva3;
    public final long slot1Gpa;
    public final long slot1Pages;
    /** Where slot 2 currently sits (moves change it), or -1 while deleted. */
    public long slot2Gpa = SLOT2_GPA;
    public boolean slot3Present;
    public int slot1Flags;
    public final int slot2Flags;

    public MmuWorld(long seed, SimConfig config, int nrVcpus) {
        this(seed, config, nrVcpus, Layout.standard());
    }

    public MmuWorld(long seed, SimConfig config, int nrVcpus, Layout layout) {
        this.layout = layout;
        sched = new SimScheduler(seed, CostModel.defaults());
        sched.attachCurrent("test", 0);
        phys = new PhysMem();
        mm = new HostMm(sched, phys);
        kvm = new SimKvm(sched, mm, config);
        oracle = StaleTranslationOracle.attachTo(kvm);
        memslots = new MemslotUpdate(kvm, MemslotLimits.x86Default(config.physBits()));
        dirtyLog = new DirtyLog(kvm);
        hva1 = mm.mmap(layout.mappingSize(), layout.backing()) + ((long) layout.hvaSkewPages() << 12);
        hva2 = mm.mmap(SLOT2_SIZE, Backing.ANON);
        hva3 = mm.mmap(SLOT3_SIZE, Backing.ANON);
        slot1Gpa = layout.slot1Gpa();
        slot1Pages = layout.pages();
        slot2Flags = layout.slot2ReadOnly() ? Memslot.KVM_MEM_READONLY : 0;
        memslots.set(MemslotRequest.v1(SLOT1, 0, slot1Gpa, slot1Pages << 12, hva1));
        memslots.set(MemslotRequest.v1(SLOT2, slot2Flags, SLOT2_GPA, SLOT2_SIZE, hva2));
        for (int i = 0; i < nrVcpus; i++) {
            SimVcpu v = kvm.createVcpu();
            v.setCr3(-1);
            vcpus.add(v);
        }
    }

    /** Creates slot 3 where it was absent, or deletes it. */
    public void toggleSlot3() {
        memslots.set(MemslotRequest.v1(SLOT3, 0, SLOT3_GPA, slot3Present ? 0 : SLOT3_SIZE, hva3));
        slot3Present = !slot3Present;
    }

    /** The level of the leaf SPTE mapping {@code gpa} in vCPU {@code v}'s root, or 0 if none is present. */
    public int leafLevel(int v, long gpa) {
        EptWalk leaf = kvm.tdpMmu().walk(vcpus.get(v).root(), gpa >>> 12);
        return dev.kvmharness.mmu.spte.Spte.isPresent(leaf.spte()) ? leaf.level() : 0;
    }

    /**
     * One guest access by vCPU {@code v}: a KVM_RUN that makes it and exits.
     *
     * @return the exit that ended the run: INTR when the access completed, MMIO when KVM handed it to userspace
     */
    public GuestExit.Reason access(int v, long gpa, boolean write, boolean exec) {
        SimVcpu vcpu = vcpus.get(v);
        vcpu.beginRun();
        try {
            if (exec) {
                vcpu.fetch(gpa);
            } else {
                long hpa = vcpu.translate(gpa, 8, write);
                if (write) {
                    phys.write(hpa >>> 12, (int) (hpa & 4095), 8, gpa);
                } else {
                    phys.read(hpa >>> 12, (int) (hpa & 4095), 8);
                }
            }
            vcpu.endRun(GuestExit.Reason.INTR);
            return GuestExit.Reason.INTR;
        } catch (GuestExit e) {
            vcpu.endRun(e.reason());
            return e.reason();
        }
    }

    /** Joins {@code threads}; each one that failed is a line "name: cause" of the result, not an exception. */
    public List<String> joinAll(List<SimThread> threads) {
        List<String> failures = new ArrayList<>();
        for (SimThread t : threads) {
            try {
                sched.join(t);
            } catch (RuntimeException e) {
                failures.add(t.name() + ": " + e.getCause());
            }
        }
        return failures;
    }

    /** {@link #close()}, a failed teardown (a WARN while zapping, a deadlock) added to {@code problems} instead of thrown. */
    public void closeInto(List<String> problems) {
        try {
            close();
        } catch (RuntimeException e) {
            problems.add("VM teardown: " + e);
        }
    }

    public Memslot slot(int id) {
        return kvm.memslots().byId(0, id);
    }

    @Override
    public void close() {
        kvm.close();
        mm.close();
        sched.detachCurrent();
        sched.close();
    }
}
