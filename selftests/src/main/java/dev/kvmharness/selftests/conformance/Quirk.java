// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A known, named way a host's KVM differs from the simulator (which follows upstream), or one the simulator's own
 * simplifications cause. Each is detected (from the host, where it is the host's), printed in the report with how
 * often it was hit, and explains only the divergence it describes: anything else fails the run. A history stops at a quirk hit, since the two sides no longer see the same VM.
 */
public enum Quirk {
    /**
     * kvm_pvm (KVM on the PVM module, shadow paging): a guest access to a memslot whose host memory was unmapped
     * is emulated as MMIO. Upstream KVM's kvm_handle_error_pfn() fails KVM_RUN with EFAULT, as the model does.
     */
    KVM_PVM_UNMAPPED_HVA_AS_MMIO("kvm_pvm emulates a guest access to a memslot whose host memory is unmapped as MMIO;"
            + " upstream KVM (kvm_handle_error_pfn()) fails KVM_RUN with EFAULT") {
        @Override
        boolean present() {
            return Files.isDirectory(Path.of("/sys/module/kvm_pvm"));
        }

        @Override
        boolean explains(Op op, String sim, String kvm) {
            return sim.equals(HistoryRun.UNMAPPED_HVA + "KVM_RUN EFAULT") && kvm.startsWith(HistoryRun.UNMAPPED_HVA + "MMIO gpa=");
        }
    },
    /**
     * Not the host's but the model's: the simulator's mmap() never reuses an address range, where Linux places a
     * new mapping in the hole a munmap() left. A memslot whose host memory was unmapped may then find another
     * slot's new memory at its old address on the host, and the guest reads that memory instead of failing.
     */
    SIM_MMAP_NEVER_REUSES_ADDRESSES("the simulator's mmap() never reuses addresses; Linux may put a later mapping where an"
            + " unmapped memslot's memory was, and the guest then reaches that memory") {
        @Override
        boolean present() {
            return true;
        }

        @Override
        boolean explains(Op op, String sim, String kvm) {
            return sim.equals(HistoryRun.UNMAPPED_HVA + "KVM_RUN EFAULT") && kvm.startsWith(HistoryRun.UNMAPPED_HVA + "sync ");
        }
    };

    private final String description;

    Quirk(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** Whether this host has the quirk. */
    abstract boolean present();

    /** Whether the step's two observations differ the way the quirk says. */
    abstract boolean explains(Op op, String sim, String kvm);

    /** The quirks this host has. */
    public static List<Quirk> ofThisHost() {
        List<Quirk> out = new ArrayList<>();
        for (Quirk q : values()) {
            if (q.present()) {
                out.add(q);
            }
        }
        return out;
    }
}
