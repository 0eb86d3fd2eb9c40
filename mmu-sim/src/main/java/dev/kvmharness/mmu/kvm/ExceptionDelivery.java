// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.kvm;

/**
 * How the CPU delivers a guest exception through the guest's IDT, and what KVM makes of the outcomes the
 * simulator can reach (SDM vol. 3, 6.10-6.15; the exception classes of kvm_multiple_exception()):
 * <ul>
 *   <li>the gate of vector v is the 16 bytes at IDTR.base + 16 v, read through the guest page walk and the
 *       EPT; past IDTR.limit the read raises #GP, a gate without P raises #NP, a walk failure raises #PF;</li>
 *   <li>a fault raised while delivering combines as the SDM's table 6-5 says: contributory on contributory, or
 *       contributory or #PF on a #PF, becomes #DF; anything else is delivered in its place; a fault while
 *       delivering #DF is a triple fault, which KVM reports as KVM_EXIT_SHUTDOWN (KVM_REQ_TRIPLE_FAULT);</li>
 *   <li>a gate read that lands in guest-physical memory no memslot backs is an EPT violation during event
 *       delivery; KVM cannot emulate MMIO while vectoring (vmx_check_emulate_instruction() returns
 *       X86EMUL_UNHANDLEABLE_VECTORING, 6.14) and exits with KVM_EXIT_INTERNAL_ERROR,
 *       KVM_INTERNAL_ERROR_DELIVERY_EV, data as kvm_prepare_event_vectoring_exit() fills it: the IDT-vectoring
 *       info, the exit reason, the exit qualification, the GPA, the last VM-entry CPU.</li>
 * </ul>
 * A present gate would start a guest handler; guest programs have none, so that is not modelled.
 */
final class ExceptionDelivery {
    static final int DE_VECTOR = 0;
    static final int DF_VECTOR = 8;
    static final int TS_VECTOR = 10;
    static final int NP_VECTOR = 11;
    static final int SS_VECTOR = 12;
    static final int GP_VECTOR = 13;
    static final int PF_VECTOR = 14;
    /** EXIT_REASON_EPT_VIOLATION. */
    static final long EXIT_REASON_EPT_VIOLATION = 48;
    /** Exit qualification of a read whose linear address was valid and translated (bits 0, 7 and 8). */
    static final long EPT_QUAL_READ_TRANSLATED = 0x181;
    /** IDT-vectoring info: valid, hardware exception (type 3), error code delivered. */
    private static final long VECTORING_VALID = 1L << 31, VECTORING_HW_EXCEPTION = 3L << 8, VECTORING_ERROR_CODE = 1L << 11;

    private final SimVcpu vcpu;

    ExceptionDelivery(SimVcpu vcpu) {
        this.vcpu = vcpu;
    }

    /** Delivers {@code vector}; returns the exit the vCPU ends its KVM_RUN with. */
    GuestExit deliver(int vector, String why) {
        int cur = vector;
        StringBuilder chain = new StringBuilder(name(vector)).append(" (").append(why).append(')');
        while (true) {
            int next;
            long offset = cur * 16L;
            if (offset + 15 > vcpu.idtLimit()) {
                next = GP_VECTOR;
                chain.append(" -> ").append(name(cur)).append(" gate beyond IDT limit 0x")
                        .append(Integer.toHexString(vcpu.idtLimit())).append(": #GP");
            } else {
                long linear = vcpu.idtBase() + offset;
                long gpa = -1;
                try {
                    gpa = vcpu.linearToGpa(linear, false);
                } catch (SimVcpu.GuestPageFault f) {
                    chain.append(" -> reading the ").append(name(cur)).append(" gate: ").append(f.getMessage());
                }
                if (gpa < 0) {
                    next = PF_VECTOR;
                } else {
                    long low;
                    try {
                        low = vcpu.readGpa(gpa, 8);
                    } catch (GuestExit e) {
                        if (e.reason() != GuestExit.Reason.MMIO) {
                            throw e;
                        }
                        return vectoringError(cur, gpa, chain.append(" -> the ").append(name(cur))
                                .append(String.format(" gate at gpa 0x%x is MMIO", gpa)).toString());
                    }
                    if ((low & (1L << 47)) == 0) {
                        next = NP_VECTOR;
                        chain.append(" -> ").append(name(cur)).append(" gate not present: #NP");
                    } else {
                        throw new UnsupportedOperationException(chain + " -> the " + name(cur)
                                + " gate is present: running guest exception handlers is not modelled");
                    }
                }
            }
            if (cur == DF_VECTOR) {
                return new GuestExit(GuestExit.Reason.SHUTDOWN, 0, false, chain.append(" -> triple fault").toString());
            }
            boolean toDf = (contributory(cur) && contributory(next)) || (cur == PF_VECTOR && (next == PF_VECTOR || contributory(next)));
            cur = toDf ? DF_VECTOR : next;
            if (toDf) {
                chain.append(" -> #DF");
            }
        }
    }

    private GuestExit vectoringError(int vector, long gpa, String why) {
        long info = VECTORING_VALID | VECTORING_HW_EXCEPTION | vector | (hasErrorCode(vector) ? VECTORING_ERROR_CODE : 0);
        return GuestExit.internalError(GuestExit.KVM_INTERNAL_ERROR_DELIVERY_EV,
                new long[] {info, EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ_TRANSLATED, gpa, 0}, why);
    }

    private static boolean contributory(int v) {
        return v == DE_VECTOR || v == TS_VECTOR || v == NP_VECTOR || v == SS_VECTOR || v == GP_VECTOR;
    }

    private static boolean hasErrorCode(int v) {
        return v == DF_VECTOR || v == TS_VECTOR || v == NP_VECTOR || v == SS_VECTOR || v == GP_VECTOR || v == PF_VECTOR
                || v == 17;
    }

    private static String name(int v) {
        return switch (v) {
            case DE_VECTOR -> "#DE";
            case DF_VECTOR -> "#DF";
            case TS_VECTOR -> "#TS";
            case NP_VECTOR -> "#NP";
            case SS_VECTOR -> "#SS";
            case GP_VECTOR -> "#GP";
            case PF_VECTOR -> "#PF";
            default -> "vector " + v;
        };
    }
}
