// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host KVM detection on fake sysfs/procfs trees, and what it makes comparable. */
class HostKvmTest {
    @TempDir
    Path root;

    private void param(String module, String name, String value) throws IOException {
        Path p = root.resolve("sys/module").resolve(module).resolve("parameters").resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, value + "\n");
    }

    private void kernel(String release) throws IOException {
        Path p = root.resolve("proc/sys/kernel/osrelease");
        Files.createDirectories(p.getParent());
        Files.writeString(p, release + "\n");
    }

    @Test
    void pvmWithTdpMmuOffIsShadowPaging() throws IOException {
        param("kvm", "tdp_mmu", "N");
        param("kvm_pvm", "pvm_native", "Y");
        kernel("6.18.44-fc");
        HostKvm h = HostKvm.detect(root);
        assertThat(h.vendor()).isEqualTo("kvm_pvm");
        assertThat(h.paging()).isEqualTo(HostKvm.Paging.SHADOW);
        assertThat(h.kind()).isEqualTo("kvm_pvm-shadow");
        assertThat(h.simPolicy()).as("shadow paging faults under mmu_lock held for write").isEqualTo("pre-tdp");
        assertThat(h.describe()).contains("kvm_pvm", "shadow paging", "kvm.tdp_mmu=N", "6.18.44-fc");
        CompareStatRules.Rule pf = CompareStatRules.rule("pf_taken", h);
        assertThat(pf.comparable()).isFalse();
        assertThat(pf.reason()).contains("shadow", "tdp_mmu=N");
        assertThat(CompareStatRules.rule("remote_tlb_flush", h).comparable()).isFalse();
        assertThat(CompareStatRules.rule("pages_2m", h).comparable()).isFalse();
        assertThat(CompareStatRules.rule("tlb_flush", h).comparable()).isTrue();
    }

    @Test
    void intelWithEptAndTheTdpMmuIsWhatTheSimulatorModels() throws IOException {
        param("kvm", "tdp_mmu", "Y");
        param("kvm_intel", "ept", "Y");
        kernel("6.12.0");
        HostKvm h = HostKvm.detect(root);
        assertThat(h.paging()).isEqualTo(HostKvm.Paging.TDP_MMU);
        assertThat(h.simPolicy()).as("the TDP MMU faults under mmu_lock held for read").isEqualTo("current");
        assertThat(h.kind()).isEqualTo("kvm_intel-tdp-mmu");
        for (String s : new String[] {"pf_taken", "pf_fixed", "remote_tlb_flush", "pages_4k", "exits", "io_exits"}) {
            assertThat(CompareStatRules.rule(s, h).comparable()).as(s).isTrue();
        }
        assertThat(CompareStatRules.rule("mmu_pte_write", h).comparable()).isFalse();
    }

    @Test
    void amdWithoutNptShadowsAndTdpMmuOffWithEptIsTheLegacyMmu() throws IOException {
        param("kvm", "tdp_mmu", "Y");
        param("kvm_amd", "npt", "0");
        assertThat(HostKvm.detect(root).paging()).isEqualTo(HostKvm.Paging.SHADOW);
        Path other = root.resolve("other");
        Files.createDirectories(other.resolve("sys/module/kvm_intel/parameters"));
        Files.writeString(other.resolve("sys/module/kvm_intel/parameters/ept"), "Y");
        Files.createDirectories(other.resolve("sys/module/kvm/parameters"));
        Files.writeString(other.resolve("sys/module/kvm/parameters/tdp_mmu"), "N");
        HostKvm legacy = HostKvm.detect(other);
        assertThat(legacy.paging()).isEqualTo(HostKvm.Paging.TDP_LEGACY_MMU);
        assertThat(legacy.simPolicy()).isEqualTo("pre-tdp");
        assertThat(CompareStatRules.rule("pf_fixed", legacy).comparable()).isTrue();
        assertThat(CompareStatRules.rule("remote_tlb_flush", legacy).comparable()).isFalse();
        assertThat(legacy.kernel()).isEqualTo("unknown");
    }

    @Test
    void noKvmAtAll() {
        HostKvm h = HostKvm.detect(root);
        assertThat(h.vendor()).isEqualTo("none");
        assertThat(h.tdpMmu()).isNull();
        assertThat(h.paging()).isEqualTo(HostKvm.Paging.SHADOW);
    }
}
