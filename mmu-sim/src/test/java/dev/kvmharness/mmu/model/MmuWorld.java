// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.model;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.DirtyLog;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.memslot.MemslotLimits;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.memslot.MemslotUpdate;
import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;
import java.util.ArrayList;
import java.util.List;

/**
 * A small simulated VM for tests that drive the MMU directly: two memslots (one THP-backed so huge pages
 * happen, one 4K), a few vCPUs with paging off (gva == gpa), all on the calling thread, which the scheduler
 * adopts. vCPU accesses are made one at a time, as a vCPU's KVM_RUN would make them.
 */
public final class MmuWorld implements AutoCloseable {
    public static final long SLOT1_GPA = 1L << 30;
    public static final long SLOT1_SIZE = 8L << 20;
    public static final long SLOT2_GPA = 2L << 30;
    public static final long SLOT2_SIZE = 2L << 20;
    public static final int SLOT1 = 1;
    public static final int SLOT2 = 2;

    public final SimScheduler sched;
    public final PhysMem phys;
    public final HostMm mm;
    public final SimKvm kvm;
    public final MemslotUpdate memslots;
    public final DirtyLog dirtyLog;
    public final List<SimVcpu> vcpus = new ArrayList<>();
    public final long hva1;
    public final long hva2;
    /** Where slot 2 currently sits (moves change it), or -1 while deleted. */
    public long slot2Gpa = SLOT2_GPA;
    public int slot1Flags;

    public MmuWorld(long seed, SimConfig config, int nrVcpus) {
        sched = new SimScheduler(seed, CostModel.defaults());
        sched.attachCurrent("test", 0);
        phys = new PhysMem();
        mm = new HostMm(sched, phys);
        kvm = new SimKvm(sched, mm, config);
        memslots = new MemslotUpdate(kvm, MemslotLimits.x86Default(config.physBits()));
        dirtyLog = new DirtyLog(kvm);
        hva1 = mm.mmap(SLOT1_SIZE, Backing.ANON_THP);
        hva2 = mm.mmap(SLOT2_SIZE, Backing.ANON);
        memslots.set(MemslotRequest.v1(SLOT1, 0, SLOT1_GPA, SLOT1_SIZE, hva1));
        memslots.set(MemslotRequest.v1(SLOT2, 0, SLOT2_GPA, SLOT2_SIZE, hva2));
        for (int i = 0; i < nrVcpus; i++) {
            SimVcpu v = kvm.createVcpu();
            v.setCr3(-1);
            vcpus.add(v);
        }
    }

    /** One guest access by vCPU {@code v}: a KVM_RUN that makes it and exits. */
    public void access(int v, long gpa, boolean write, boolean exec) {
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
            vcpu.endRun(dev.kvmharness.mmu.kvm.GuestExit.Reason.INTR);
        } catch (dev.kvmharness.mmu.kvm.GuestExit e) {
            vcpu.endRun(e.reason());
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
