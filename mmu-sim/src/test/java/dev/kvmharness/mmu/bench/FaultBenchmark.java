// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.host.HostMm;
import dev.kvmharness.mmu.host.PhysMem;
import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.MemslotLimits;
import dev.kvmharness.mmu.memslot.MemslotRequest;
import dev.kvmharness.mmu.memslot.MemslotUpdate;
import dev.kvmharness.mmu.sched.CostModel;
import dev.kvmharness.mmu.sched.SimScheduler;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Simulated 4K EPT-violation faults per second, one vCPU on one core: each operation is a guest write to a
 * page never touched before, through the whole path (TLB miss, EPT walk, kvm_mmu_page_fault, the host page
 * fault-in, kvm_tdp_mmu_map with its table allocations, the retried walk and TLB fill). Run with
 * {@code ci/bench.sh FaultBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 12, batchSize = 1)
@Measurement(iterations = 8, batchSize = 1)
// The heap is pre-touched: on a host where page faults are slow, first-touch faults of fresh heap would
// otherwise dominate the allocation of page tables.
@Fork(value = 1, jvmArgsAppend = {"-Xms6g", "-Xmx6g", "-XX:+AlwaysPreTouch"})
public class FaultBenchmark {
    static final int PAGES = 1 << 20;
    static final long GPA = 1L << 32;

    @Param({"current", "legacy", "pre-tdp"})
    public String policy;

    private SimScheduler sched;
    private HostMm mm;
    private SimKvm kvm;
    private SimVcpu vcpu;

    @Setup(Level.Invocation)
    public void setUp() {
        sched = new SimScheduler(1, CostModel.defaults());
        sched.attachCurrent("bench", 0);
        mm = new HostMm(sched, new PhysMem());
        kvm = new SimKvm(sched, mm, SimConfig.defaults().withOracle(false)
                .withPolicy(dev.kvmharness.mmu.policy.Policy.parse(policy)));
        long size = (long) PAGES << 12;
        long hva = mm.mmap(size, Backing.ANON);
        new MemslotUpdate(kvm, MemslotLimits.x86Default(48)).set(MemslotRequest.v1(1, 0, GPA, size, hva));
        vcpu = kvm.createVcpu();
        vcpu.setCr3(-1);
        vcpu.beginRun();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long fault4k() {
        long sum = 0;
        for (long i = 0; i < PAGES; i++) {
            sum += vcpu.translate(GPA + (i << 12), 8, true);
        }
        return sum;
    }

    @TearDown(Level.Invocation)
    public void tearDown() {
        if (vcpu.stats().pfFixed != PAGES) {
            throw new IllegalStateException("expected " + PAGES + " fixed faults, got " + vcpu.stats().pfFixed);
        }
        vcpu.endRun(GuestExit.Reason.INTR);
        kvm.close();
        mm.close();
        sched.detachCurrent();
        sched.close();
    }
}
