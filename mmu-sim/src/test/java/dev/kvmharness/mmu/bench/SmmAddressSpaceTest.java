// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.policy.Policy;
import org.junit.jupiter.api.Test;

/** A vCPU in SMM uses address space 1: its memslots, its root; leaving SMM drops that root. */
class SmmAddressSpaceTest {
    private static final long GPA = 0xa8000;
    private static final long SIZE = 0x20000;

    /** The host page a vCPU's access to GPA lands on, from a KVM_RUN of one access. */
    private static long pfnOf(SimVcpu c) {
        c.beginRun();
        long pfn = c.translate(GPA, 8, true) >>> 12;
        c.ioExit();
        return pfn;
    }

    private static SeedVm vmWithTwoAddressSpaces(String policy) {
        SeedVm vm = new SeedVm(1, SimConfig.defaults().withPolicy(Policy.parse(policy)), 2);
        long normal = vm.mm.mmap(SIZE, Backing.ANON);
        long smram = vm.mm.mmap(SIZE, Backing.ANON);
        vm.setSlot(0, 0, 0xa0000, SIZE, normal); // address space 0: e.g. the VGA window
        vm.setSlot(1 << 16, 0, 0xa0000, SIZE, smram); // address space 1: SMRAM
        return vm;
    }

    @Test
    void anSmmVcpuFaultsThroughAddressSpaceOne() {
        try (SeedVm vm = vmWithTwoAddressSpaces("current")) {
            SimVcpu c = vm.vcpus.get(0);
            long normalPfn = pfnOf(c);
            c.setSmm(true);
            assertThat(c.asId()).isEqualTo(1);
            long smmPfn = pfnOf(c);
            assertThat(c.root().asId()).as("the SMM root").isEqualTo(1);
            assertThat(smmPfn).as("SMRAM, not the page address space 0 maps there").isNotEqualTo(normalPfn)
                    .isEqualTo(vm.mm.pfnIfMapped(vm.kvm.memslots().lookup(1, GPA >> 12).gfnToHva(GPA >> 12)));
            c.setSmm(false);
            assertThat(pfnOf(c)).isEqualTo(normalPfn);
            assertThat(vm.oracle.violations()).isEmpty();
        }
    }

    @Test
    void leavingSmmZapsTheSmmRootOnLegacyAndKeepsItOnCurrent() {
        for (String policy : new String[] {"legacy", "current"}) {
            try (SeedVm vm = vmWithTwoAddressSpaces(policy)) {
                SimVcpu c = vm.vcpus.get(0);
                pfnOf(vm.vcpus.get(1)); // another vCPU holds address space 0's root
                c.setSmm(true);
                pfnOf(c);
                long requests = vm.kvm.stats().remoteTlbFlushRequests;
                c.setSmm(false);
                long added = vm.kvm.stats().remoteTlbFlushRequests - requests;
                if (policy.equals("legacy")) {
                    assertThat(added).as("legacy: the last reference to the SMM root zaps it, with a flush").isPositive();
                } else {
                    assertThat(added).as("current: roots live until invalidated").isZero();
                }
                assertThat(vm.oracle.violations()).isEmpty();
            }
        }
    }
}
