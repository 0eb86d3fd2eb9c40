// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.junit.ProcessResources;
import dev.kvmharness.junit.RequiresKvm;
import org.junit.jupiter.api.Test;

/**
 * Creating and destroying VMs leaves nothing behind: every fd (/dev/kvm, VM, vCPU, stats fds) and every mapping
 * (guest memory, kvm_run) is released by close().
 */
@RequiresKvm
class VmLifecycleLeakIT {
    private static final GuestProgram DONE = GuestProgram.define("done", g -> g.done());

    private static void oneVm(KvmBackend kvm) {
        try (Vm vm = kvm.createVm(VmShape.of(DONE, 1))) {
            Stats s = vm.stats();
            assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.DONE);
            assertThat(s.vcpus()).hasSize(1);
        }
    }

    @Test
    void thousandVmsLeaveFdsAndMappingsWhereTheyStarted() {
        KvmBackend kvm = new KvmBackend();
        // Warm up: class loading, JNA and the watchdog thread allocate once, not per VM.
        for (int i = 0; i < 5; i++) {
            oneVm(kvm);
        }
        long fds = ProcessResources.openFds();
        long maps = ProcessResources.mappings();
        long kvmFds = ProcessResources.kvmFds();
        for (int i = 0; i < 1000; i++) {
            oneVm(kvm);
        }
        assertThat(ProcessResources.kvmFds()).as("kvm fds").isEqualTo(kvmFds).isZero();
        // A leak per VM would show as 1000; the JVM may open a file or two lazily meanwhile (a jar for class
        // loading, the JIT's), which is not ours.
        assertThat(ProcessResources.openFds()).as("open fds").isBetween(fds, fds + 3);
        // The JVM's own heap and thread stacks may add a few mappings; guest memory and kvm_run pages
        // would add at least 2 per VM (2000), so allow the JVM a small slack.
        assertThat(ProcessResources.mappings()).as("mappings").isBetween(maps - 20, maps + 20);
    }
}
