// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.junit.RequiresKvm;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/** Binary stats of a real VM and vCPU: header, descriptors of every type, values by KVM name. */
@RequiresKvm
class StatsFdIT {

    @Test
    void vmStatsByName() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0); StatsFd stats = vm.statsFd()) {
            assertThat(stats.id()).startsWith("kvm-");
            assertThat(stats.descriptors()).extracting(StatDescriptor::name)
                    .contains("remote_tlb_flush", "remote_tlb_flush_requests", "pages_4k", "pages_2m", "nx_lpage_splits");
            assertThat(stats.descriptor("remote_tlb_flush").type()).isEqualTo(StatDescriptor.Type.CUMULATIVE);
            assertThat(stats.descriptor("pages_4k").type()).isEqualTo(StatDescriptor.Type.INSTANT);
            assertThat(stats.descriptor("max_mmu_rmap_size").type()).isEqualTo(StatDescriptor.Type.PEAK);
            assertThat(stats.readValue("pages_4k")).isZero();
            Map<String, long[]> all = stats.readAll();
            assertThat(all).containsKeys("remote_tlb_flush", "mmu_shadow_zapped");
            assertThat(all.get("remote_tlb_flush")).hasSize(1);
            assertThatThrownBy(() -> stats.read("no_such_stat")).isInstanceOf(NoSuchElementException.class)
                    .hasMessageContaining("no_such_stat");
        }
    }

    @Test
    void vcpuStatsIncludeEveryType() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0); VcpuFd vcpu = vm.createVcpu(0);
             StatsFd stats = vcpu.statsFd()) {
            assertThat(stats.id()).contains("vcpu-0");
            assertThat(stats.descriptors()).extracting(StatDescriptor::name).contains("pf_taken", "exits", "io_exits");
            // halt_poll_fail_hist etc. are log histograms; halt_wait_ns is cumulative time in ns (exponent -9).
            StatDescriptor hist = stats.descriptors().stream().filter(StatDescriptor::isHistogram).findFirst().orElseThrow();
            assertThat(stats.read(hist.name())).hasSize(hist.size());
            assertThat(hist.size()).isGreaterThan(1);
            StatDescriptor waitNs = stats.descriptor("halt_wait_ns");
            assertThat(waitNs.unit()).isEqualTo(StatDescriptor.Unit.SECONDS);
            assertThat(waitNs.exponent()).isEqualTo(-9);
            StatDescriptor guestMode = stats.descriptor("guest_mode");
            assertThat(guestMode.type()).isEqualTo(StatDescriptor.Type.INSTANT);
            assertThat(guestMode.unit()).isEqualTo(StatDescriptor.Unit.BOOLEAN);
            assertThat(stats.readValue("exits")).isZero();
        }
    }
}
