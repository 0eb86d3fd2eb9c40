// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.junit.RequiresKvm;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.kvm.bindings.KvmCpuid2;
import dev.kvmharness.kvm.bindings.KvmRegs;
import dev.kvmharness.kvm.bindings.KvmSregs;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.IoctlException;
import dev.kvmharness.sys.Mapping;
import org.junit.jupiter.api.Test;

/** Every system, VM and vCPU ioctl of kvm-native, on the real /dev/kvm, positive and negative. */
@RequiresKvm
class KvmIT {

    @Test
    void systemIoctls() {
        try (Kvm kvm = Kvm.open()) {
            assertThat(kvm.apiVersion()).isEqualTo(KvmApi.KVM_API_VERSION);
            assertThat(kvm.checkExtension(KvmApi.KVM_CAP_USER_MEMORY)).isPositive();
            assertThat(kvm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS)).isGreaterThanOrEqualTo(32);
            assertThat(kvm.vcpuMmapSize()).isGreaterThanOrEqualTo(4096);
            KvmCpuid2 cpuid = kvm.supportedCpuid();
            assertThat(cpuid.entries()).isNotEmpty().anyMatch(e -> e.function() == 0x80000008);
        }
    }

    @Test
    void unknownCapabilityIsZero() {
        try (Kvm kvm = Kvm.open()) {
            assertThat(kvm.checkExtension(0x7fff_0000)).isZero();
        }
    }

    @Test
    void createVmWithUnknownTypeFailsWithEinval() {
        try (Kvm kvm = Kvm.open()) {
            assertThatThrownBy(() -> kvm.createVm(0x7f))
                    .isInstanceOfSatisfying(IoctlException.class, e -> {
                        assertThat(e.ioctl()).isEqualTo("KVM_CREATE_VM");
                        assertThat(e.symbol()).isEqualTo(Errno.EINVAL);
                        assertThat(e.getMessage()).contains("KVM_CREATE_VM").contains("EINVAL");
                    });
        }
    }

    @Test
    void memslotIoctlsAndTheirErrnos() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0); Mapping mem = Mapping.anonymous(2 << 20)) {
            vm.setUserMemoryRegion(0, 0, 0, 1 << 20, mem.address());
            // Overlapping gpa range in another slot: EEXIST.
            assertThatThrownBy(() -> vm.setUserMemoryRegion(1, 0, 0x80000, 1 << 20, mem.address()))
                    .isInstanceOfSatisfying(IoctlException.class, e -> assertThat(e.symbol()).isEqualTo(Errno.EEXIST));
            // Unaligned gpa: EINVAL.
            assertThatThrownBy(() -> vm.setUserMemoryRegion(2, 0, 0x100001, 1 << 20, mem.address()))
                    .isInstanceOfSatisfying(IoctlException.class, e -> assertThat(e.symbol()).isEqualTo(Errno.EINVAL));
            // Unknown flag bit: EINVAL.
            assertThatThrownBy(() -> vm.setUserMemoryRegion(3, 1 << 20, 0x200000, 1 << 20, mem.address()))
                    .isInstanceOfSatisfying(IoctlException.class, e -> assertThat(e.symbol()).isEqualTo(Errno.EINVAL));
            if (kvm.has(KvmApi.KVM_CAP_USER_MEMORY2)) {
                vm.setUserMemoryRegion2(4, 0, 0x400000, 1 << 20, mem.address() + (1 << 20), 0, 0);
                vm.setUserMemoryRegion2(4, 0, 0x400000, 0, 0, 0, 0); // delete
            }
            vm.setUserMemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, 1 << 20, mem.address());
            com.sun.jna.Memory bitmap = new com.sun.jna.Memory(256 / 8);
            vm.getDirtyLog(0, bitmap);
            assertThat(bitmap.getLong(0)).isZero();
            vm.setUserMemoryRegion(0, 0, 0, 0, 0);
            assertThatThrownBy(() -> vm.getDirtyLog(0, bitmap))
                    .isInstanceOfSatisfying(IoctlException.class, e -> assertThat(e.ioctl()).isEqualTo("KVM_GET_DIRTY_LOG"));
        }
    }

    @Test
    void clearDirtyLogChecksAlignment() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0); Mapping mem = Mapping.anonymous(1 << 20)) {
            vm.setUserMemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, 1 << 20, mem.address());
            com.sun.jna.Memory bitmap = new com.sun.jna.Memory(256 / 8);
            bitmap.clear();
            vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 1);
            vm.clearDirtyLog(0, 0, 64, bitmap);
            // first_page must be 64-page aligned (kvm_clear_dirty_log_protect()).
            assertThatThrownBy(() -> vm.clearDirtyLog(0, 1, 64, bitmap))
                    .isInstanceOfSatisfying(IoctlException.class, e -> {
                        assertThat(e.ioctl()).isEqualTo("KVM_CLEAR_DIRTY_LOG");
                        assertThat(e.symbol()).isEqualTo(Errno.EINVAL);
                    });
        }
    }

    @Test
    void vcpuRegistersRoundTrip() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0); VcpuFd vcpu = vm.createVcpu(0)) {
            vcpu.setCpuid2(KvmCpuid2.of(kvm.supportedCpuid().entries()));
            KvmRegs regs = new KvmRegs();
            vcpu.getRegs(regs);
            regs.set(KvmRegs.Field.RBX, 0x1122334455667788L);
            regs.set(KvmRegs.Field.R15, -2L);
            vcpu.setRegs(regs);
            KvmRegs back = new KvmRegs();
            vcpu.getRegs(back);
            assertThat(back.get(KvmRegs.Field.RBX)).isEqualTo(0x1122334455667788L);
            assertThat(back.get(KvmRegs.Field.R15)).isEqualTo(-2L);

            KvmSregs sregs = new KvmSregs();
            vcpu.getSregs(sregs);
            assertThat(sregs.segment(KvmSregs.Seg.CS).selector()).isEqualTo(0xf000); // reset state
            sregs.cr4(sregs.cr4() | (1 << 9));
            vcpu.setSregs(sregs);
            KvmSregs sback = new KvmSregs();
            vcpu.getSregs(sback);
            assertThat(sback.cr4() & (1 << 9)).isNotZero();
            vcpu.setMpState(0);
            assertThat(vcpu.kvmRun().immediateExit()).isFalse();
        }
    }

    @Test
    @SuppressWarnings("try") // vcpu is only held open: the second KVM_CREATE_VCPU must find id 0 taken
    void duplicateVcpuIdFailsWithEexist() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0); VcpuFd vcpu = vm.createVcpu(0)) {
            assertThatThrownBy(() -> vm.createVcpu(0))
                    .isInstanceOfSatisfying(IoctlException.class, e -> {
                        assertThat(e.ioctl()).isEqualTo("KVM_CREATE_VCPU");
                        assertThat(e.symbol()).isEqualTo(Errno.EEXIST);
                    });
        }
    }

    @Test
    void runWithImmediateExitReturnsEintr() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0); VcpuFd vcpu = vm.createVcpu(0)) {
            vcpu.kvmRun().immediateExit(true);
            assertThat(vcpu.run()).as("KVM_RUN with immediate_exit returns EINTR").isFalse();
        }
    }

    @Test
    void enableCapAndMmuPagesAndTsc() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0)) {
            vm.setNrMmuPages(1024);
            assertThat(vm.tscKhz()).isPositive();
            assertThatThrownBy(() -> vm.enableCap(0x7fff_0000))
                    .isInstanceOfSatisfying(IoctlException.class, e -> assertThat(e.ioctl()).isEqualTo("KVM_ENABLE_CAP"));
        }
    }

    @Test
    void guestMemfdWhereOffered() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(0)) {
            if (vm.checkExtension(KvmApi.KVM_CAP_GUEST_MEMFD) > 0) {
                vm.createGuestMemfd(1 << 20, 0).close();
            } else {
                // The default VM type has no private memory here: KVM rejects the ioctl.
                assertThatThrownBy(() -> vm.createGuestMemfd(1 << 20, 0))
                        .isInstanceOfSatisfying(IoctlException.class, e -> assertThat(e.ioctl()).isEqualTo("KVM_CREATE_GUEST_MEMFD"));
            }
        }
    }

    @Test
    void useAfterCloseThrowsInsteadOfCrashing() {
        Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm(0);
        VcpuFd vcpu = vm.createVcpu(0);
        vcpu.close();
        vm.close();
        kvm.close();
        assertThatThrownBy(vcpu::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(vcpu::kvmRun).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> vm.createVcpu(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(kvm::apiVersion).isInstanceOf(IllegalStateException.class);
        Mapping m = Mapping.anonymous(4096);
        m.close();
        assertThatThrownBy(() -> m.getLong(0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("unmapped");
    }
}
