// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.strength;

import dev.kvmharness.mmu.kvm.GuestExit;
import dev.kvmharness.mmu.kvm.SimKvm;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.model.MmuWorld;
import dev.kvmharness.mmu.tdp.KvmMmuPage;

/**
 * Test helper for the strength tests: one guest access as a KVM_RUN that makes it, reporting the exit it caused
 * instead of swallowing it (as {@link MmuWorld#access} does), and a look at what the roots still map.
 */
final class Guest {
    private Guest() {
    }

    /** vCPU {@code v} writes {@code value} at {@code gpa}: the exit it caused, or null if it completed in the guest. */
    static GuestExit write(MmuWorld w, int v, long gpa, long value) {
        SimVcpu vcpu = w.vcpus.get(v);
        vcpu.beginRun();
        try {
            long hpa = vcpu.translate(gpa, 8, true);
            w.phys.write(hpa >>> 12, (int) (hpa & 4095), 8, value);
            vcpu.endRun(GuestExit.Reason.INTR);
            return null;
        } catch (GuestExit e) {
            vcpu.endRun(e.reason());
            return e;
        }
    }

    /** vCPU {@code v} reads 8 bytes at {@code gpa}: the exit it caused, or null if it completed in the guest. */
    static GuestExit read(MmuWorld w, int v, long gpa, long[] value) {
        SimVcpu vcpu = w.vcpus.get(v);
        vcpu.beginRun();
        try {
            long hpa = vcpu.translate(gpa, 8, false);
            value[0] = w.phys.read(hpa >>> 12, (int) (hpa & 4095), 8);
            vcpu.endRun(GuestExit.Reason.INTR);
            return null;
        } catch (GuestExit e) {
            vcpu.endRun(e.reason());
            return e;
        }
    }

    /** The first gfn of [start, end) some root of {@code kvm} still maps, described, or null if none does. */
    static String stillMapped(SimKvm kvm, long start, long end) {
        for (KvmMmuPage root : kvm.tdpMmu().roots()) {
            if (root.isFreed()) {
                continue;
            }
            long gfn = kvm.tdpMmu().firstPresentLeaf(root, start, end);
            if (gfn >= 0) {
                return String.format("%s maps gfn 0x%x", root, gfn);
            }
        }
        return null;
    }
}
