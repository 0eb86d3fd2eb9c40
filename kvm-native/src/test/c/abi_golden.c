/* SPDX-License-Identifier: GPL-2.0-only */
/* Prints the kernel's ioctl numbers, struct sizes and offsets that kvm-native hard-codes; ci/gen-abi-golden.sh regenerates src/test/resources/kernel-abi.txt from it. */
#include <stdio.h>
#include <stddef.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>
#define P(x) printf("%s=0x%lx\n", #x, (unsigned long)(x))
#define O(s,f) printf("offsetof(%s,%s)=%zu\n", #s, #f, offsetof(struct s, f))
#define S(s) printf("sizeof(%s)=%zu\n", #s, sizeof(struct s))
int main(void){
P(KVM_GET_API_VERSION);P(KVM_CREATE_VM);P(KVM_CHECK_EXTENSION);P(KVM_GET_VCPU_MMAP_SIZE);P(KVM_GET_SUPPORTED_CPUID);
P(KVM_CREATE_VCPU);P(KVM_GET_DIRTY_LOG);P(KVM_SET_NR_MMU_PAGES);P(KVM_SET_USER_MEMORY_REGION);P(KVM_SET_TSS_ADDR);
P(KVM_SET_USER_MEMORY_REGION2);P(KVM_CREATE_IRQCHIP);P(KVM_ENABLE_CAP);P(KVM_GET_TSC_KHZ);P(KVM_CLEAR_DIRTY_LOG);
P(KVM_GET_STATS_FD);P(KVM_CREATE_GUEST_MEMFD);P(KVM_RUN);P(KVM_GET_REGS);P(KVM_SET_REGS);P(KVM_GET_SREGS);P(KVM_SET_SREGS);
P(KVM_SET_CPUID2);P(KVM_SET_MP_STATE);P(UFFDIO_API);P(UFFDIO_REGISTER);P(UFFDIO_UNREGISTER);P(UFFDIO_WAKE);P(UFFDIO_COPY);
P(UFFDIO_ZEROPAGE);P(UFFDIO_CONTINUE);
P(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);P(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);P(KVM_DIRTY_LOG_INITIALLY_SET);P(KVM_MEM_LOG_DIRTY_PAGES);
S(kvm_regs);S(kvm_sregs);S(kvm_segment);S(kvm_dtable);S(kvm_userspace_memory_region);S(kvm_userspace_memory_region2);
S(kvm_enable_cap);S(kvm_dirty_log);S(kvm_clear_dirty_log);S(kvm_create_guest_memfd);S(kvm_cpuid2);S(kvm_cpuid_entry2);
S(kvm_stats_header);S(kvm_stats_desc);S(uffdio_api);S(uffdio_register);S(uffdio_copy);S(uffdio_zeropage);S(uffdio_continue);S(uffd_msg);S(uffdio_range);
O(kvm_regs,rip);O(kvm_regs,rflags);O(kvm_regs,r8);O(kvm_sregs,tr);O(kvm_sregs,ldt);O(kvm_sregs,gdt);O(kvm_sregs,idt);O(kvm_sregs,cr0);O(kvm_sregs,cr3);O(kvm_sregs,cr4);O(kvm_sregs,efer);O(kvm_sregs,apic_base);O(kvm_sregs,interrupt_bitmap);
O(kvm_segment,limit);O(kvm_segment,selector);O(kvm_segment,type);O(kvm_segment,present);O(kvm_segment,dpl);O(kvm_segment,db);O(kvm_segment,s);O(kvm_segment,l);O(kvm_segment,g);O(kvm_segment,avl);O(kvm_segment,unusable);
O(kvm_userspace_memory_region2,guest_memfd_offset);O(kvm_userspace_memory_region2,guest_memfd);O(kvm_userspace_memory_region2,pad2);
O(kvm_enable_cap,args);O(kvm_clear_dirty_log,first_page);O(kvm_clear_dirty_log,dirty_bitmap);O(kvm_dirty_log,dirty_bitmap);
O(kvm_cpuid_entry2,eax);O(kvm_cpuid_entry2,edx);O(kvm_cpuid2,entries);
O(kvm_stats_header,data_offset);O(kvm_stats_desc,bucket_size);O(kvm_stats_desc,name);O(kvm_stats_desc,exponent);O(kvm_stats_desc,size);
O(kvm_run,immediate_exit);O(kvm_run,exit_reason);O(kvm_run,io);O(kvm_run,io.port);O(kvm_run,io.count);O(kvm_run,io.data_offset);O(kvm_run,io.size);
O(kvm_run,mmio.phys_addr);O(kvm_run,mmio.data);O(kvm_run,mmio.len);O(kvm_run,mmio.is_write);O(kvm_run,internal.suberror);O(kvm_run,internal.ndata);O(kvm_run,internal.data);
O(kvm_run,fail_entry.cpu);O(kvm_run,memory_fault.gpa);O(kvm_run,memory_fault.size);O(kvm_run,kvm_valid_regs);
O(uffdio_copy,copy);O(uffdio_continue,mapped);O(uffdio_zeropage,zeropage);O(uffd_msg,arg.pagefault.address);O(uffd_msg,arg.pagefault.flags);O(uffd_msg,arg.pagefault.feat.ptid);O(uffdio_register,ioctls);
return 0;}
