// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * struct kvm_vcpu_stat (generic halt stats and the x86 ones the MMU and exits touch), under KVM's names and in
 * its order.
 */
public final class VcpuStats {
    public long haltSuccessfulPoll;
    public long haltAttemptedPoll;
    public long haltPollInvalid;
    public long haltWakeup;
    public long haltPollSuccessNs;
    public long haltPollFailNs;
    public long haltWaitNs;
    public long blocking;
    public long pfTaken;
    public long pfFixed;
    public long pfEmulate;
    public long pfSpurious;
    public long pfFast;
    public long pfMmioSpteCreated;
    public long pfGuest;
    public long tlbFlush;
    public long invlpg;
    public long exits;
    public long ioExits;
    public long mmioExits;
    public long signalExits;
    public long irqWindowExits;
    public long nmiWindowExits;
    public long l1dFlush;
    public long haltExits;
    public long requestIrqExits;
    public long irqExits;
    public long hostStateReload;
    public long fpuReload;
    public long insnEmulation;
    public long insnEmulationFail;
    public long hypercalls;

    /** Name, kind and value of each stat, in KVM's order. */
    public Map<String, VmStats.Stat> snapshot() {
        Map<String, VmStats.Stat> m = new LinkedHashMap<>();
        VmStats.put(m, "halt_successful_poll", StatKind.CUMULATIVE, haltSuccessfulPoll);
        VmStats.put(m, "halt_attempted_poll", StatKind.CUMULATIVE, haltAttemptedPoll);
        VmStats.put(m, "halt_poll_invalid", StatKind.CUMULATIVE, haltPollInvalid);
        VmStats.put(m, "halt_wakeup", StatKind.CUMULATIVE, haltWakeup);
        VmStats.put(m, "halt_poll_success_ns", StatKind.CUMULATIVE, haltPollSuccessNs);
        VmStats.put(m, "halt_poll_fail_ns", StatKind.CUMULATIVE, haltPollFailNs);
        VmStats.put(m, "halt_wait_ns", StatKind.CUMULATIVE, haltWaitNs);
        VmStats.put(m, "blocking", StatKind.INSTANT, blocking);
        VmStats.put(m, "pf_taken", StatKind.CUMULATIVE, pfTaken);
        VmStats.put(m, "pf_fixed", StatKind.CUMULATIVE, pfFixed);
        VmStats.put(m, "pf_emulate", StatKind.CUMULATIVE, pfEmulate);
        VmStats.put(m, "pf_spurious", StatKind.CUMULATIVE, pfSpurious);
        VmStats.put(m, "pf_fast", StatKind.CUMULATIVE, pfFast);
        VmStats.put(m, "pf_mmio_spte_created", StatKind.CUMULATIVE, pfMmioSpteCreated);
        VmStats.put(m, "pf_guest", StatKind.CUMULATIVE, pfGuest);
        VmStats.put(m, "tlb_flush", StatKind.CUMULATIVE, tlbFlush);
        VmStats.put(m, "invlpg", StatKind.CUMULATIVE, invlpg);
        VmStats.put(m, "exits", StatKind.CUMULATIVE, exits);
        VmStats.put(m, "io_exits", StatKind.CUMULATIVE, ioExits);
        VmStats.put(m, "mmio_exits", StatKind.CUMULATIVE, mmioExits);
        VmStats.put(m, "signal_exits", StatKind.CUMULATIVE, signalExits);
        VmStats.put(m, "irq_window_exits", StatKind.CUMULATIVE, irqWindowExits);
        VmStats.put(m, "nmi_window_exits", StatKind.CUMULATIVE, nmiWindowExits);
        VmStats.put(m, "l1d_flush", StatKind.CUMULATIVE, l1dFlush);
        VmStats.put(m, "halt_exits", StatKind.CUMULATIVE, haltExits);
        VmStats.put(m, "request_irq_exits", StatKind.CUMULATIVE, requestIrqExits);
        VmStats.put(m, "irq_exits", StatKind.CUMULATIVE, irqExits);
        VmStats.put(m, "host_state_reload", StatKind.CUMULATIVE, hostStateReload);
        VmStats.put(m, "fpu_reload", StatKind.CUMULATIVE, fpuReload);
        VmStats.put(m, "insn_emulation", StatKind.CUMULATIVE, insnEmulation);
        VmStats.put(m, "insn_emulation_fail", StatKind.CUMULATIVE, insnEmulationFail);
        VmStats.put(m, "hypercalls", StatKind.CUMULATIVE, hypercalls);
        return m;
    }
}
