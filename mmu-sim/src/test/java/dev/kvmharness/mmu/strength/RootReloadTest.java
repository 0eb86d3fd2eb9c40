// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.tdp.KvmMmuPage;
import org.junit.jupiter.api.Test;

/**
 * After kvm_mmu_zap_all_fast() every vCPU drops its root at the next entry and loads a valid one: an invalidated
 * root must never be handed out again (kvm_tdp_mmu_alloc_root skips invalid roots), even while another vCPU that
 * has not re-entered yet still holds a reference to it. The check is made before any access, since a vCPU left
 * on an invalid root retries its faults forever.
 */
class RootReloadTest {
    @Test
    void theRootLoadedAfterAFastZapIsANewValidOne() {
        try (MmuWorld w = new MmuWorld(29, SimConfig.defaults(), 2)) {
            SimVcpu v = w.vcpus.get(0);
            assertThat(Guest.write(w, 0, MmuWorld.SLOT2_GPA, 1)).isNull();
            assertThat(Guest.write(w, 1, MmuWorld.SLOT2_GPA + 4096, 1)).isNull();
            assertThat(w.vcpus.get(1).root()).as("both vCPUs share the root").isSameAs(v.root());
            KvmMmuPage old = v.root();
            w.kvm.zapAllFast();
            assertThat(old.isInvalid()).isTrue();
            v.beginRun();
            KvmMmuPage now = v.root();
            v.endRun(GuestExit.Reason.INTR);
            assertThat(now).as("the vCPU's root after a fast zap").isNotNull();
            assertThat(now.isInvalid()).as("kvm_tdp_mmu_alloc_root() handed vCPU 0 the invalidated root %s again (vCPU 1"
                    + " still holds a reference to it)", now)
                    .isFalse();
            assertThat(now).isNotSameAs(old);
            assertThat(Guest.write(w, 0, MmuWorld.SLOT2_GPA, 2)).isNull();
            assertThat(Guest.write(w, 1, MmuWorld.SLOT2_GPA + 4096, 2)).isNull();
            assertThat(w.vcpus.get(1).root()).as("vCPU 1 moved to the new root too").isSameAs(now);
            assertThat(w.oracle.violations()).isEmpty();
        }
    }
}
