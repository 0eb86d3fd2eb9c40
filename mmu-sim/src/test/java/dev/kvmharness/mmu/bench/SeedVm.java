// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.DirtyLog;
import dev.kvmharness.mmu.memslot.MemslotLimits;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.memslot.MemslotUpdate;
import dev.kvmharness.mmu.oracle.StaleTranslationOracle;
import dev.kvmharness.mmu.sched.Cost;
import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.function.IntToLongFunction;

/**
 * The VM the seed-series benchmarks drive directly, without guest programs: a scheduler seeded for the run, the
 * host mm, struct kvm, the memslot and dirty-log ioctls, and vCPUs with paging off (gva == gpa). A vCPU's
 * KVM_RUN ({@link #run}) is a batch of guest accesses with guest instructions between them; it stays in guest
 * mode across the scheduling points between accesses, so a remote flush issued meanwhile must IPI it
 * (remote_tlb_flush), as kvm_make_all_cpus_request() does for a running vCPU.
 */
final class SeedVm implements AutoCloseable {
    final SimScheduler sched;
    final PhysMem phys;
    final HostMm mm;
    final SimKvm kvm;
    final MemslotUpdate memslots;
    final DirtyLog dirtyLog;
    /** The stale-translation oracle, attached to {@link #kvm} (it checks only with the config's oracle on). */
    final StaleTranslationOracle oracle;
    final List<SimVcpu> vcpus = new ArrayList<>();
    /** KVM_EXIT_MMIO exits the runs took (accesses no memslot backs, writes to read-only slots). */
    long mmioExits;

    /** The calling thread becomes the VMM's main thread ("vmm") at virtual time 0. */
    SeedVm(long seed, SimConfig config, int nrVcpus) {
        sched = new SimScheduler(seed, CostModel.defaults());
        sched.attachCurrent("vmm", 0);
        phys = new PhysMem();
        mm = new HostMm(sched, phys);
        kvm = new SimKvm(sched, mm, config);
        oracle = StaleTranslationOracle.attachTo(kvm);
        memslots = new MemslotUpdate(kvm, MemslotLimits.x86Default(config.physBits()));
        dirtyLog = new DirtyLog(kvm);
        for (int i = 0; i < nrVcpus; i++) {
            SimVcpu v = kvm.createVcpu();
            v.setCr3(-1);
            vcpus.add(v);
        }
    }

    /** KVM_SET_USER_MEMORY_REGION; size 0 deletes. */
    void setSlot(int slot, int flags, long gpa, long size, long hva) {
        memslots.set(MemslotRequest.v1(slot, flags, gpa, size, hva));
    }

    /**
     * One KVM_RUN of vCPU {@code v} making {@code count} 8-byte accesses at {@code gpa.applyAsLong(i)}, a write
     * where {@code write.test(i)}, with {@code insnsBetween} guest instructions after each (in guest mode, a
     * scheduling point). An MMIO exit goes to userspace (charged as {@link Cost#MMIO_EXIT}) and KVM_RUN is entered
     * again. The run ends with a port I/O exit, as a guest's next ucall or device access would. The bytes stored
     * do not matter to the MMU, so none are: only the translation is made, writable for a write.
     */
    void run(int v, int count, IntToLongFunction gpa, IntPredicate write, int insnsBetween) {
        SimVcpu vcpu = vcpus.get(v);
        sched.yieldPoint();
        vcpu.beginRun();
        for (int i = 0; i < count; i++) {
            long g = gpa.applyAsLong(i);
            try {
                vcpu.translate(g, 8, write.test(i));
            } catch (GuestExit e) {
                vcpu.endRun(e.reason());
                if (e.reason() != GuestExit.Reason.MMIO) {
                    throw new IllegalStateException(String.format("vCPU %d: unexpected exit at gpa 0x%x: %s", v, g, e.getMessage()), e);
                }
                mmioExits++;
                sched.charge(Cost.MMIO_EXIT);
                sched.yieldPoint();
                vcpu.beginRun();
            }
            sched.charge(Cost.GUEST_INSN, insnsBetween);
            sched.yieldPoint();
        }
        vcpu.ioExit();
    }

    /** A halted vCPU (HLT, outside guest mode: remote flushes need no IPI for it) for {@code ns} of virtual time. */
    void halt(long ns) {
        sched.sleep(ns);
    }

    /** Starts a simulated thread. */
    SimThread spawn(String name, Runnable body) {
        sched.charge(Cost.THREAD_START);
        return sched.spawn(name, body);
    }

    /** Joins every thread; the first failure is rethrown with the thread's name. */
    void joinAll(List<SimThread> threads) {
        for (SimThread t : threads) {
            sched.join(t);
        }
    }

    @Override
    public void close() {
        kvm.close();
        mm.close();
        sched.detachCurrent();
        sched.close();
    }
}
