// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

/** Constants of include/uapi/linux/kvm.h and arch/x86/include/uapi/asm/kvm.h that the harness uses. */
public final class KvmApi {
    private KvmApi() {
    }

    public static final int KVMIO = 0xAE;
    public static final int KVM_API_VERSION = 12;

    // capabilities (KVM_CHECK_EXTENSION)
    public static final int KVM_CAP_IRQCHIP = 0;
    public static final int KVM_CAP_HLT = 1;
    public static final int KVM_CAP_USER_MEMORY = 3;
    public static final int KVM_CAP_SET_TSS_ADDR = 4;
    public static final int KVM_CAP_EXT_CPUID = 7;
    public static final int KVM_CAP_NR_VCPUS = 9;
    public static final int KVM_CAP_NR_MEMSLOTS = 10;
    public static final int KVM_CAP_SYNC_MMU = 16;
    public static final int KVM_CAP_GET_TSC_KHZ = 61;
    public static final int KVM_CAP_MAX_VCPUS = 66;
    public static final int KVM_CAP_READONLY_MEM = 81;
    public static final int KVM_CAP_MULTI_ADDRESS_SPACE = 118;
    public static final int KVM_CAP_MAX_VCPU_ID = 128;
    public static final int KVM_CAP_IMMEDIATE_EXIT = 136;
    public static final int KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168;
    public static final int KVM_CAP_BINARY_STATS_FD = 203;
    public static final int KVM_CAP_DISABLE_QUIRKS2 = 213;
    public static final int KVM_CAP_USER_MEMORY2 = 231;
    public static final int KVM_CAP_MEMORY_ATTRIBUTES = 233;
    public static final int KVM_CAP_GUEST_MEMFD = 234;
    public static final int KVM_CAP_VM_TYPES = 235;

    // memslot flags
    public static final int KVM_MEM_LOG_DIRTY_PAGES = 1;
    public static final int KVM_MEM_READONLY = 1 << 1;
    public static final int KVM_MEM_GUEST_MEMFD = 1 << 2;

    // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2's bits (KVM_ENABLE_CAP args[0], and what KVM_CHECK_EXTENSION offers)
    public static final int KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1;
    public static final int KVM_DIRTY_LOG_INITIALLY_SET = 1 << 1;

    // VM types (x86)
    public static final int KVM_X86_DEFAULT_VM = 0;
    public static final int KVM_X86_SW_PROTECTED_VM = 1;

    // quirks
    public static final int KVM_X86_QUIRK_SLOT_ZAP_ALL = 1 << 7;

    // KVM_RUN exit reasons
    public static final int KVM_EXIT_UNKNOWN = 0;
    public static final int KVM_EXIT_EXCEPTION = 1;
    public static final int KVM_EXIT_IO = 2;
    public static final int KVM_EXIT_HYPERCALL = 3;
    public static final int KVM_EXIT_DEBUG = 4;
    public static final int KVM_EXIT_HLT = 5;
    public static final int KVM_EXIT_MMIO = 6;
    public static final int KVM_EXIT_IRQ_WINDOW_OPEN = 7;
    public static final int KVM_EXIT_SHUTDOWN = 8;
    public static final int KVM_EXIT_FAIL_ENTRY = 9;
    public static final int KVM_EXIT_INTR = 10;
    public static final int KVM_EXIT_INTERNAL_ERROR = 17;
    public static final int KVM_EXIT_SYSTEM_EVENT = 24;
    public static final int KVM_EXIT_MEMORY_FAULT = 39;

    public static final int KVM_EXIT_IO_IN = 0;
    public static final int KVM_EXIT_IO_OUT = 1;

    private static final String[] EXIT_NAMES = {
        "UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO", "IRQ_WINDOW_OPEN", "SHUTDOWN",
        "FAIL_ENTRY", "INTR", "SET_TPR", "TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR", "NMI",
        "INTERNAL_ERROR", "OSI", "PAPR_HCALL", "S390_UCONTROL", "WATCHDOG", "S390_TSCH", "EPR", "SYSTEM_EVENT",
        "S390_STSI", "IOAPIC_EOI", "HYPERV", "ARM_NISV", "X86_RDMSR", "X86_WRMSR", "DIRTY_RING_FULL",
        "AP_RESET_HOLD", "X86_BUS_LOCK", "XEN", "RISCV_SBI", "RISCV_CSR", "NOTIFY", "LOONGARCH_IOCSR",
        "MEMORY_FAULT",
    };

    /** KVM_EXIT_IO for 2, as exit_reason_str() in the selftests names them. */
    public static String exitReasonName(int reason) {
        return reason >= 0 && reason < EXIT_NAMES.length ? "KVM_EXIT_" + EXIT_NAMES[reason] : "KVM_EXIT_(" + reason + ")";
    }
}
