// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm.bindings;

import com.sun.jna.Pointer;

/**
 * struct kvm_run read in place in the vCPU's mmap()ed page: exit_reason and the per-exit unions are read
 * straight from shared memory after each KVM_RUN, as the selftests do through vcpu->run.
 */
public final class KvmRun {
    public static final int OFF_REQUEST_INTERRUPT_WINDOW = 0;
    public static final int OFF_IMMEDIATE_EXIT = 1;
    public static final int OFF_EXIT_REASON = 8;
    public static final int OFF_READY_FOR_INTERRUPT_INJECTION = 12;
    public static final int OFF_IF_FLAG = 13;
    public static final int OFF_FLAGS = 14;
    public static final int OFF_CR8 = 16;
    public static final int OFF_APIC_BASE = 24;
    /** Start of the exit-reason union. */
    public static final int OFF_UNION = 32;
    // hw / fail_entry
    public static final int OFF_HW_EXIT_REASON = 32;
    public static final int OFF_FAIL_ENTRY_REASON = 32;
    public static final int OFF_FAIL_ENTRY_CPU = 40;
    // io
    public static final int OFF_IO_DIRECTION = 32;
    public static final int OFF_IO_SIZE = 33;
    public static final int OFF_IO_PORT = 34;
    public static final int OFF_IO_COUNT = 36;
    public static final int OFF_IO_DATA_OFFSET = 40;
    // mmio
    public static final int OFF_MMIO_PHYS_ADDR = 32;
    public static final int OFF_MMIO_DATA = 40;
    public static final int OFF_MMIO_LEN = 48;
    public static final int OFF_MMIO_IS_WRITE = 52;
    // internal
    public static final int OFF_INTERNAL_SUBERROR = 32;
    public static final int OFF_INTERNAL_NDATA = 36;
    public static final int OFF_INTERNAL_DATA = 40;
    // system_event
    public static final int OFF_SYSTEM_EVENT_TYPE = 32;
    // memory_fault
    public static final int OFF_MEMORY_FAULT_FLAGS = 32;
    public static final int OFF_MEMORY_FAULT_GPA = 40;
    public static final int OFF_MEMORY_FAULT_SIZE = 48;
    /** kvm_valid_regs follows the 256-byte union. */
    public static final int OFF_KVM_VALID_REGS = 288;

    private final Pointer run;

    public KvmRun(Pointer run) {
        this.run = run;
    }

    public int exitReason() {
        return run.getInt(OFF_EXIT_REASON);
    }

    public void immediateExit(boolean on) {
        run.setByte(OFF_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    public boolean immediateExit() {
        return run.getByte(OFF_IMMEDIATE_EXIT) != 0;
    }

    public int ioDirection() {
        return run.getByte(OFF_IO_DIRECTION) & 0xff;
    }

    public int ioSize() {
        return run.getByte(OFF_IO_SIZE) & 0xff;
    }

    public int ioPort() {
        return run.getShort(OFF_IO_PORT) & 0xffff;
    }

    public int ioCount() {
        return run.getInt(OFF_IO_COUNT);
    }

    public long ioDataOffset() {
        return run.getLong(OFF_IO_DATA_OFFSET);
    }

    /** The first element of the I/O data, zero-extended from {@link #ioSize()} bytes. */
    public long ioData() {
        long off = ioDataOffset();
        switch (ioSize()) {
            case 1:
                return run.getByte(off) & 0xffL;
            case 2:
                return run.getShort(off) & 0xffffL;
            case 4:
                return run.getInt(off) & 0xffffffffL;
            default:
                return run.getLong(off);
        }
    }

    public void setIoData(long value) {
        long off = ioDataOffset();
        switch (ioSize()) {
            case 1:
                run.setByte(off, (byte) value);
                break;
            case 2:
                run.setShort(off, (short) value);
                break;
            case 4:
                run.setInt(off, (int) value);
                break;
            default:
                run.setLong(off, value);
        }
    }

    public long mmioPhysAddr() {
        return run.getLong(OFF_MMIO_PHYS_ADDR);
    }

    public int mmioLen() {
        return run.getInt(OFF_MMIO_LEN);
    }

    public boolean mmioIsWrite() {
        return run.getByte(OFF_MMIO_IS_WRITE) != 0;
    }

    /** The MMIO data bytes as a little-endian value. */
    public long mmioData() {
        return run.getLong(OFF_MMIO_DATA);
    }

    public void setMmioData(long value) {
        run.setLong(OFF_MMIO_DATA, value);
    }

    public long failEntryReason() {
        return run.getLong(OFF_FAIL_ENTRY_REASON);
    }

    public int failEntryCpu() {
        return run.getInt(OFF_FAIL_ENTRY_CPU);
    }

    public long hardwareExitReason() {
        return run.getLong(OFF_HW_EXIT_REASON);
    }

    public int internalSuberror() {
        return run.getInt(OFF_INTERNAL_SUBERROR);
    }

    public long[] internalData() {
        int n = Math.min(16, Math.max(0, run.getInt(OFF_INTERNAL_NDATA)));
        return run.getLongArray(OFF_INTERNAL_DATA, n);
    }

    public int systemEventType() {
        return run.getInt(OFF_SYSTEM_EVENT_TYPE);
    }

    public long memoryFaultGpa() {
        return run.getLong(OFF_MEMORY_FAULT_GPA);
    }

    /** A one-line description of the current exit, for failure messages. */
    public String describe() {
        int reason = exitReason();
        StringBuilder sb = new StringBuilder(KvmApi.exitReasonName(reason));
        switch (reason) {
            case KvmApi.KVM_EXIT_IO:
                sb.append(String.format(" port=0x%x %s size=%d count=%d", ioPort(),
                        ioDirection() == KvmApi.KVM_EXIT_IO_OUT ? "out" : "in", ioSize(), ioCount()));
                break;
            case KvmApi.KVM_EXIT_MMIO:
                sb.append(String.format(" gpa=0x%x len=%d %s", mmioPhysAddr(), mmioLen(), mmioIsWrite() ? "write" : "read"));
                break;
            case KvmApi.KVM_EXIT_FAIL_ENTRY:
                sb.append(String.format(" hardware_entry_failure_reason=0x%x cpu=%d", failEntryReason(), failEntryCpu()));
                break;
            case KvmApi.KVM_EXIT_INTERNAL_ERROR:
                sb.append(" suberror=").append(internalSuberror());
                for (long d : internalData()) {
                    sb.append(String.format(" 0x%x", d));
                }
                break;
            case KvmApi.KVM_EXIT_UNKNOWN:
                sb.append(String.format(" hardware_exit_reason=0x%x", hardwareExitReason()));
                break;
            case KvmApi.KVM_EXIT_SYSTEM_EVENT:
                sb.append(" type=").append(systemEventType());
                break;
            default:
                break;
        }
        return sb.toString();
    }
}
