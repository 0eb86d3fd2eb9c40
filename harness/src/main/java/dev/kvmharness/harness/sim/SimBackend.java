// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BarebonesVm;
import dev.kvmharness.harness.HostCaps;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import java.util.Optional;

/**
 * The simulator backend: each VM is a {@link dev.kvmharness.mmu.kvm.SimKvm} on its own deterministic
 * scheduler, with simulated host memory, guest programs run by the reference interpreter, and KVM's stats.
 * Always available; no /dev/kvm needed.
 */
public final class SimBackend implements Backend {
    /** KVM_MAX_VCPUS on x86 in 6.12. */
    static final int MAX_VCPUS = 4096;
    /** KVM_USER_MEM_SLOTS on x86. */
    static final int NR_MEMSLOTS = 32764;

    private final SimOptions options;
    private final SimFiles files = new SimFiles();

    public SimBackend(SimOptions options) {
        this.options = options;
    }

    public SimOptions options() {
        return options;
    }

    @Override
    public String name() {
        return "sim";
    }

    @Override
    public String describe() {
        return "sim (mmu-sim TDP MMU model, policy " + options.config().policy().name()
                + (options.config().oracle() ? "" : ", oracle off")
                + "): times are virtual (simulated), not wall-clock";
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    /** A host like the simulator's CPU: MAXPHYADDR from the config, 1 GiB pages, every capability the model has. */
    @Override
    public HostCaps caps() {
        int bits = options.config().physBits();
        return new HostCaps(Math.min(MAX_VCPUS, options.config().nrVcpusMax()), NR_MEMSLOTS, bits, 1L << bits, true,
                true, false, true);
    }

    /** The simulated process's fds, shared by this backend's VMs. */
    SimFiles files() {
        return files;
    }

    @Override
    public int checkCap(int cap) {
        return SimCaps.check(options.config(), -1, cap);
    }

    @Override
    public BarebonesVm createBarebonesVm(int type) {
        return new SimBarebonesVm(this, type);
    }

    @Override
    public Vm createVm(VmShape shape) {
        if (shape.nrVcpus() > caps().maxVcpus()) {
            throw new IllegalArgumentException("nr_vcpus = " + shape.nrVcpus() + " too large for host, max-vcpus = " + caps().maxVcpus());
        }
        return new SimVm(this, shape);
    }

    /** The simulated host has idle page tracking (mmu-sim's PageIdle). */
    @Override
    public Optional<String> pageIdleUnavailableReason() {
        return Optional.empty();
    }
}
