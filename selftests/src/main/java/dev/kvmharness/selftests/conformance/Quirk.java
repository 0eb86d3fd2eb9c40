// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import dev.kvmharness.selftests.HostKvm;
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
    },

    /**
     * Not the host's but the model's: the simulator's host mm has no zero page. A guest read of never-written
     * anonymous memory gets a page of its own, which KVM maps writable and, in a dirty-logged slot, marks dirty;
     * Linux maps the shared zero page read-only, so KVM maps the SPTE read-only and marks nothing. The
     * simulator's bitmap then has bits for pages the guest only read before anything wrote them.
     */
    SIM_NO_ZERO_PAGE("the simulator's host mm has no zero page: a guest read of never-written anonymous memory is"
            + " mapped writable and, in a dirty-logged slot, marked dirty; Linux maps the zero page read-only") {
        @Override
        boolean present() {
            return true;
        }

        @Override
        boolean explains(Op op, String sim, String kvm) {
            return readsExplain(op, sim, kvm, true);
        }
    },
    /**
     * Shadow paging (no EPT/NPT, or PVM): a guest read maps the page read-only while the guest's own PTE is clean
     * (FNAME(page_fault) keeps write access back to set the guest's Dirty bit on the first write), so a read
     * never marks a page dirty. The TDP MMU maps a read of a writable host page writable and marks it dirty in a
     * logged slot (hva_to_pfn() pins it writable when it can), as the simulator does.
     */
    SHADOW_PAGING_READ_NOT_DIRTY("with shadow paging a guest read maps the page read-only, so reads never mark pages"
            + " dirty; the TDP MMU (and the simulator) map a read of a writable host page writable and mark it dirty") {
        @Override
        boolean present() {
            return HostKvm.detect().paging() == HostKvm.Paging.SHADOW;
        }

        @Override
        boolean explains(Op op, String sim, String kvm) {
            return readsExplain(op, sim, kvm, false);
        }
    };

    /**
     * A GetDirtyLog whose simulator bitmap has extra bits, each a page the guest read (only never-written ones if
     * {@code neverWritten}), and no bit the host's lacks: what {@link HistoryRun#GUEST_READS} annotates.
     */
    private static boolean readsExplain(Op op, String sim, String kvm, boolean neverWritten) {
        int at = sim.indexOf(HistoryRun.GUEST_READS);
        if (!(op instanceof Op.GetDirtyLog) || at < 0 || !kvm.endsWith(sim.substring(at))) {
            return false;
        }
        int nw = sim.indexOf(HistoryRun.NEVER_WRITTEN, at);
        long read = neverWritten ? hexAfter(sim, nw + HistoryRun.NEVER_WRITTEN.length())
                : hexAfter(sim, at + HistoryRun.GUEST_READS.length());
        long a = hexAfter(sim, "bitmap ".length());
        long b = hexAfter(kvm, "bitmap ".length());
        return (b & ~a) == 0 && ((a & ~b) & ~read) == 0;
    }

    /** The hex number ("0x...") at {@code from} in {@code s}. */
    static long hexAfter(String s, int from) {
        int end = from + 2;
        while (end < s.length() && Character.digit(s.charAt(end), 16) >= 0) {
            end++;
        }
        return Long.parseUnsignedLong(s.substring(from + 2, end), 16);
    }

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
