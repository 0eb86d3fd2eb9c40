// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every ioctl number, struct size and field offset kvm-native hard-codes, against the values the kernel's
 * UAPI headers (6.12) produce: src/test/c/abi_golden.c compiled against them wrote kernel-abi.txt.
 */
class KernelAbiTest {

    private static Map<String, Long> kernel() throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        try (InputStream in = KernelAbiTest.class.getResourceAsStream("/kernel-abi.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines().toList()) {
                String[] kv = line.split("=", 2);
                m.put(kv[0], Long.decode(kv[1]));
            }
        }
        return m;
    }

    private static Map<String, Long> ours() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Ioctl i : Ioctl.values()) {
            m.put(i.name(), i.number());
        }
        m.put("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", (long) KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
        m.put("KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE", (long) KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
        m.put("KVM_DIRTY_LOG_INITIALLY_SET", (long) KvmApi.KVM_DIRTY_LOG_INITIALLY_SET);
        m.put("KVM_MEM_LOG_DIRTY_PAGES", (long) KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        m.put("sizeof(kvm_regs)", (long) KvmRegs.SIZE);
        m.put("sizeof(kvm_sregs)", (long) KvmSregs.SIZE);
        m.put("sizeof(kvm_segment)", (long) KvmSegment.SIZE);
        m.put("sizeof(kvm_dtable)", (long) KvmSregs.DTABLE_SIZE);
        m.put("sizeof(kvm_userspace_memory_region)", (long) KvmUserspaceMemoryRegion.SIZE);
        m.put("sizeof(kvm_userspace_memory_region2)", (long) KvmUserspaceMemoryRegion2.SIZE);
        m.put("sizeof(kvm_enable_cap)", (long) KvmEnableCap.SIZE);
        m.put("sizeof(kvm_dirty_log)", (long) KvmDirtyLog.SIZE);
        m.put("sizeof(kvm_clear_dirty_log)", (long) KvmClearDirtyLog.SIZE);
        m.put("sizeof(kvm_create_guest_memfd)", (long) KvmCreateGuestMemfd.SIZE);
        m.put("sizeof(kvm_cpuid2)", (long) KvmCpuid2.HEADER_SIZE);
        m.put("sizeof(kvm_cpuid_entry2)", (long) KvmCpuid2.ENTRY_SIZE);
        m.put("sizeof(kvm_stats_header)", (long) KvmStatsLayout.HEADER_SIZE);
        m.put("sizeof(kvm_stats_desc)", (long) KvmStatsLayout.DESC_SIZE);
        m.put("sizeof(uffdio_api)", (long) Uffd.API_SIZE);
        m.put("sizeof(uffdio_register)", (long) Uffd.REGISTER_SIZE);
        m.put("sizeof(uffdio_copy)", (long) Uffd.COPY_SIZE);
        m.put("sizeof(uffdio_zeropage)", (long) Uffd.ZEROPAGE_SIZE);
        m.put("sizeof(uffdio_continue)", (long) Uffd.CONTINUE_SIZE);
        m.put("sizeof(uffd_msg)", (long) Uffd.MSG_SIZE);
        m.put("sizeof(uffdio_range)", (long) Uffd.RANGE_SIZE);
        m.put("offsetof(kvm_regs,rip)", (long) KvmRegs.Field.RIP.offset());
        m.put("offsetof(kvm_regs,rflags)", (long) KvmRegs.Field.RFLAGS.offset());
        m.put("offsetof(kvm_regs,r8)", (long) KvmRegs.Field.R8.offset());
        m.put("offsetof(kvm_sregs,tr)", (long) KvmSregs.Seg.TR.offset());
        m.put("offsetof(kvm_sregs,ldt)", (long) KvmSregs.Seg.LDT.offset());
        m.put("offsetof(kvm_sregs,gdt)", (long) KvmSregs.OFF_GDT);
        m.put("offsetof(kvm_sregs,idt)", (long) KvmSregs.OFF_IDT);
        m.put("offsetof(kvm_sregs,cr0)", (long) KvmSregs.OFF_CR0);
        m.put("offsetof(kvm_sregs,cr3)", (long) KvmSregs.OFF_CR3);
        m.put("offsetof(kvm_sregs,cr4)", (long) KvmSregs.OFF_CR4);
        m.put("offsetof(kvm_sregs,efer)", (long) KvmSregs.OFF_EFER);
        m.put("offsetof(kvm_sregs,apic_base)", (long) KvmSregs.OFF_APIC_BASE);
        m.put("offsetof(kvm_sregs,interrupt_bitmap)", (long) KvmSregs.OFF_INTERRUPT_BITMAP);
        m.put("offsetof(kvm_segment,limit)", (long) KvmSegment.OFF_LIMIT);
        m.put("offsetof(kvm_segment,selector)", (long) KvmSegment.OFF_SELECTOR);
        m.put("offsetof(kvm_segment,type)", (long) KvmSegment.OFF_TYPE);
        m.put("offsetof(kvm_segment,present)", (long) KvmSegment.OFF_PRESENT);
        m.put("offsetof(kvm_segment,dpl)", (long) KvmSegment.OFF_DPL);
        m.put("offsetof(kvm_segment,db)", (long) KvmSegment.OFF_DB);
        m.put("offsetof(kvm_segment,s)", (long) KvmSegment.OFF_S);
        m.put("offsetof(kvm_segment,l)", (long) KvmSegment.OFF_L);
        m.put("offsetof(kvm_segment,g)", (long) KvmSegment.OFF_G);
        m.put("offsetof(kvm_segment,avl)", (long) KvmSegment.OFF_AVL);
        m.put("offsetof(kvm_segment,unusable)", (long) KvmSegment.OFF_UNUSABLE);
        m.put("offsetof(kvm_userspace_memory_region2,guest_memfd_offset)", (long) KvmUserspaceMemoryRegion2.OFF_GUEST_MEMFD_OFFSET);
        m.put("offsetof(kvm_userspace_memory_region2,guest_memfd)", (long) KvmUserspaceMemoryRegion2.OFF_GUEST_MEMFD);
        m.put("offsetof(kvm_userspace_memory_region2,pad2)", (long) KvmUserspaceMemoryRegion2.OFF_PAD2);
        m.put("offsetof(kvm_enable_cap,args)", (long) KvmEnableCap.OFF_ARGS);
        m.put("offsetof(kvm_clear_dirty_log,first_page)", (long) KvmClearDirtyLog.OFF_FIRST_PAGE);
        m.put("offsetof(kvm_clear_dirty_log,dirty_bitmap)", (long) KvmClearDirtyLog.OFF_DIRTY_BITMAP);
        m.put("offsetof(kvm_dirty_log,dirty_bitmap)", (long) KvmDirtyLog.OFF_DIRTY_BITMAP);
        m.put("offsetof(kvm_cpuid_entry2,eax)", (long) KvmCpuid2.ENTRY_OFF_EAX);
        m.put("offsetof(kvm_cpuid_entry2,edx)", (long) KvmCpuid2.ENTRY_OFF_EDX);
        m.put("offsetof(kvm_cpuid2,entries)", (long) KvmCpuid2.HEADER_SIZE);
        m.put("offsetof(kvm_stats_header,data_offset)", (long) KvmStatsLayout.HEADER_OFF_DATA_OFFSET);
        m.put("offsetof(kvm_stats_desc,bucket_size)", (long) KvmStatsLayout.DESC_OFF_BUCKET_SIZE);
        m.put("offsetof(kvm_stats_desc,name)", (long) KvmStatsLayout.DESC_OFF_NAME);
        m.put("offsetof(kvm_stats_desc,exponent)", (long) KvmStatsLayout.DESC_OFF_EXPONENT);
        m.put("offsetof(kvm_stats_desc,size)", (long) KvmStatsLayout.DESC_OFF_SIZE);
        m.put("offsetof(kvm_run,immediate_exit)", (long) KvmRun.OFF_IMMEDIATE_EXIT);
        m.put("offsetof(kvm_run,exit_reason)", (long) KvmRun.OFF_EXIT_REASON);
        m.put("offsetof(kvm_run,io)", (long) KvmRun.OFF_UNION);
        m.put("offsetof(kvm_run,io.port)", (long) KvmRun.OFF_IO_PORT);
        m.put("offsetof(kvm_run,io.count)", (long) KvmRun.OFF_IO_COUNT);
        m.put("offsetof(kvm_run,io.data_offset)", (long) KvmRun.OFF_IO_DATA_OFFSET);
        m.put("offsetof(kvm_run,io.size)", (long) KvmRun.OFF_IO_SIZE);
        m.put("offsetof(kvm_run,mmio.phys_addr)", (long) KvmRun.OFF_MMIO_PHYS_ADDR);
        m.put("offsetof(kvm_run,mmio.data)", (long) KvmRun.OFF_MMIO_DATA);
        m.put("offsetof(kvm_run,mmio.len)", (long) KvmRun.OFF_MMIO_LEN);
        m.put("offsetof(kvm_run,mmio.is_write)", (long) KvmRun.OFF_MMIO_IS_WRITE);
        m.put("offsetof(kvm_run,internal.suberror)", (long) KvmRun.OFF_INTERNAL_SUBERROR);
        m.put("offsetof(kvm_run,internal.ndata)", (long) KvmRun.OFF_INTERNAL_NDATA);
        m.put("offsetof(kvm_run,internal.data)", (long) KvmRun.OFF_INTERNAL_DATA);
        m.put("offsetof(kvm_run,fail_entry.cpu)", (long) KvmRun.OFF_FAIL_ENTRY_CPU);
        m.put("offsetof(kvm_run,memory_fault.gpa)", (long) KvmRun.OFF_MEMORY_FAULT_GPA);
        m.put("offsetof(kvm_run,memory_fault.size)", (long) KvmRun.OFF_MEMORY_FAULT_SIZE);
        m.put("offsetof(kvm_run,kvm_valid_regs)", (long) KvmRun.OFF_KVM_VALID_REGS);
        m.put("offsetof(uffdio_copy,copy)", (long) Uffd.COPY_OFF_COPY);
        m.put("offsetof(uffdio_continue,mapped)", (long) Uffd.CONTINUE_OFF_MAPPED);
        m.put("offsetof(uffdio_zeropage,zeropage)", (long) Uffd.ZEROPAGE_OFF_ZEROPAGE);
        m.put("offsetof(uffd_msg,arg.pagefault.address)", (long) Uffd.MSG_OFF_PAGEFAULT_ADDRESS);
        m.put("offsetof(uffd_msg,arg.pagefault.flags)", (long) Uffd.MSG_OFF_PAGEFAULT_FLAGS);
        m.put("offsetof(uffd_msg,arg.pagefault.feat.ptid)", (long) Uffd.MSG_OFF_PAGEFAULT_PTID);
        m.put("offsetof(uffdio_register,ioctls)", (long) Uffd.REGISTER_OFF_IOCTLS);
        return m;
    }

    @Test
    void everyHardCodedValueMatchesTheKernelHeaders() throws IOException {
        assertThat(ours()).containsExactlyInAnyOrderEntriesOf(kernel());
    }

    @Test
    void ioctlArgumentSizesAreEncodedInTheNumbers() {
        assertThat(Ioc.size(Ioctl.KVM_SET_USER_MEMORY_REGION2.number())).isEqualTo(KvmUserspaceMemoryRegion2.SIZE);
        assertThat(Ioc.size(Ioctl.KVM_GET_SREGS.number())).isEqualTo(KvmSregs.SIZE);
        assertThat(Ioc.size(Ioctl.KVM_RUN.number())).isZero();
    }

    @Test
    void exitReasonsAreNamedLikeExitReasonStr() {
        assertThat(KvmApi.exitReasonName(KvmApi.KVM_EXIT_IO)).isEqualTo("KVM_EXIT_IO");
        assertThat(KvmApi.exitReasonName(KvmApi.KVM_EXIT_INTERNAL_ERROR)).isEqualTo("KVM_EXIT_INTERNAL_ERROR");
        assertThat(KvmApi.exitReasonName(KvmApi.KVM_EXIT_MEMORY_FAULT)).isEqualTo("KVM_EXIT_MEMORY_FAULT");
        assertThat(KvmApi.exitReasonName(999)).isEqualTo("KVM_EXIT_(999)");
    }
}
