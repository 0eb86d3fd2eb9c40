// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.HostBuffer;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.MailboxGuest;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.SyscallException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Runs a {@link History} on one backend and says what userspace saw at each step: "ok", an errno, the value
 * a read returned, a dirty bitmap, or how KVM_RUN ended (a GUEST_SYNC with the value the guest read or wrote,
 * KVM_EXIT_MMIO with its gpa, length and direction, an exit reason, KVM_RUN's errno). The guest is a mailbox:
 * {@link MailboxGuest}, told before each KVM_RUN which access to make.
 * Every position of the test window is mapped gva == gpa, whether a memslot backs it or not.
 */
public final class HistoryRun {
    /** Where position 0 starts; the window ends {@link #WINDOW_PAGES} pages later. */
    public static final long BASE_GPA = 0xc0000000L;
    static final long PAGE = 4096;
    static final int WINDOW_PAGES = (History.POSITIONS - 1) * History.POSITION_PAGES + History.PAGES;
    private static final int READ = MailboxGuest.READ;
    private static final int WRITE = MailboxGuest.WRITE;
    /** Marks a guest access to a memslot whose host memory this history unmapped (both sides know it). */
    public static final String UNMAPPED_HVA = "unmapped hva: ";
    /**
     * Follows a dirty bitmap: the pages the guest read, and of those the ones it read while nothing had written
     * them (the zero page, on Linux): " (guest read 0x5, never-written 0x1)".
     */
    public static final String GUEST_READS = " (guest read ";
    public static final String NEVER_WRITTEN = ", never-written ";
    /** Starts the observation of a step that threw something other than an errno (the side's VM is broken). */
    static final String ERROR = "error ";
    /** An observation that ends the history: the vCPU cannot go on. */
    static final String TERMINAL = " (end)";

    private final Vm vm;
    private final Vcpu vcpu;
    private final long box;
    private final History history;
    /** Slot id to position, for the slots that exist. */
    private final Map<Integer, Integer> at = new HashMap<>();
    private final Set<Integer> unmapped = new HashSet<>();
    /**
     * Per slot, the pages nothing has written since their memory was allocated (or dropped by MADV_DONTNEED), and
     * the pages the guest read in that state: Linux maps such a read to the shared zero page, read-only.
     */
    private final Map<Integer, Integer> written = new HashMap<>();
    private final Map<Integer, Integer> zeroReads = new HashMap<>();
    private final Map<Integer, Boolean> readOnly = new HashMap<>();
    /** Per slot, every page the guest has read since the slot was created. */
    private final Map<Integer, Integer> reads = new HashMap<>();
    private HostBuffer scratch;

    private HistoryRun(Vm vm, History history) {
        this.vm = vm;
        this.history = history;
        this.box = vm.vaddrAlloc(PAGE);
        vm.virtMap(BASE_GPA, BASE_GPA, WINDOW_PAGES * PAGE);
        this.vcpu = vm.vcpu(0);
        vcpu.setArgs(box);
    }

    /** The observations of {@code history} on {@code backend}, one per step, ending early where the vCPU cannot go on. */
    public static List<String> observe(Backend backend, History history) {
        return observe(backend, history, null);
    }

    /**
     * As above, adding the VM's KVM stats at the end of the history (the VM's, and the vCPU's) to {@code coverage}
     * if it is not null: which fault paths, flushes and zaps the histories reached.
     */
    public static List<String> observe(Backend backend, History history, Map<String, Long> coverage) {
        Vm vm = backend.createVm(VmShape.of(MailboxGuest.PROGRAM, 1));
        List<String> out = new ArrayList<>();
        boolean broken;
        try {
            broken = runAll(vm, history, coverage, out);
        } catch (RuntimeException e) {
            try {
                vm.close();
            } catch (RuntimeException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
        try {
            vm.close();
        } catch (RuntimeException e) {
            // A VM that failed inside (the model's own check threw mid-operation) may not close cleanly either;
            // its observation already says what went wrong. One that fails only now left something inconsistent
            // behind (a lock or an RCU read section held): that is an observation of its own, after the last step.
            if (!broken) {
                out.add(ERROR + "closing the VM: " + e.getClass().getSimpleName() + ": " + e.getMessage() + TERMINAL);
            }
        }
        return out;
    }

    /** Runs the steps into {@code out}; whether the last one broke the VM (an {@link #ERROR} observation). */
    private static boolean runAll(Vm vm, History history, Map<String, Long> coverage, List<String> out) {
        if (history.manualProtect()) {
            vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
        }
        HistoryRun run = new HistoryRun(vm, history);
        for (Op op : history.ops()) {
            String o = run.step(op);
            out.add(o);
            if (o.startsWith(ERROR)) {
                return true;
            }
            if (o.endsWith(TERMINAL)) {
                break;
            }
        }
        if (coverage != null) {
            Stats s = vm.stats();
            s.vm().forEach((name, v) -> coverage.merge(name, v.length == 0 ? 0 : v[0], Long::sum));
            s.vcpus().forEach(m -> m.forEach((name, v) -> coverage.merge(name, v.length == 0 ? 0 : v[0], Long::sum)));
        }
        return false;
    }

    static long gpa(int pos, int page) {
        return BASE_GPA + ((long) pos * History.POSITION_PAGES + page) * PAGE;
    }

    private String step(Op op) {
        try {
            return apply(op);
        } catch (SyscallException | SimKvmException e) {
            return errno(e);
        } catch (RuntimeException e) {
            // Anything else (the model's own checks, say "pfn ... was freed (use after free)") is what this side
            // did at this step, and the VM cannot be trusted further.
            return ERROR + e.getClass().getSimpleName() + ": " + e.getMessage() + TERMINAL;
        }
    }

    private String apply(Op op) {
        if (op instanceof Op.CreateSlot c) {
            if (at.containsKey(c.slot())) {
                return "skip";
            }
            int flags = (c.logDirty() ? KvmApi.KVM_MEM_LOG_DIRTY_PAGES : 0) | (c.readOnly() ? KvmApi.KVM_MEM_READONLY : 0);
            readOnly.put(c.slot(), c.readOnly());
            if (!History.free(at, c.slot(), c.pos())) {
                // kvm_util's region add refuses an overlap itself; the ioctl is what is being compared, so it is
                // made directly, on scratch memory. Were it to succeed, the slot is deleted again at once.
                vm.setUserMemoryRegion(c.slot(), flags, gpa(c.pos(), 0), History.PAGES * PAGE, scratch().hva());
                vm.setUserMemoryRegion(c.slot(), flags, gpa(c.pos(), 0), 0, scratch().hva());
                return "ok (over another slot)";
            }
            vm.addRegion(BackingSource.ANONYMOUS, gpa(c.pos(), 0), c.slot(), History.PAGES, flags);
            at.put(c.slot(), c.pos());
            unmapped.remove(c.slot());
            written.put(c.slot(), 0);
            zeroReads.put(c.slot(), 0);
            reads.put(c.slot(), 0);
            return "ok";
        }
        if (op instanceof Op.DeleteSlot d) {
            if (!hostMapped(d.slot())) {
                // kvm_util needs the region's host address for these, which is gone after munmap
                return "skip";
            }
            vm.memRegionDelete(d.slot());
            at.remove(d.slot());
            unmapped.remove(d.slot());
            return "ok";
        }
        if (op instanceof Op.MoveSlot m) {
            if (!hostMapped(m.slot())) {
                // kvm_util needs the region's host address for these, which is gone after munmap
                return "skip";
            }
            vm.memRegionMove(m.slot(), gpa(m.pos(), 0));
            at.put(m.slot(), m.pos());
            return "ok";
        }
        if (op instanceof Op.SetDirtyLogging s) {
            if (!hostMapped(s.slot())) {
                // kvm_util needs the region's host address for these, which is gone after munmap
                return "skip";
            }
            // KVM_MEM_READONLY stays as the slot was created: changing it is refused, and that is not what this step is about
            vm.memRegionSetFlags(s.slot(), (s.on() ? KvmApi.KVM_MEM_LOG_DIRTY_PAGES : 0)
                    | (readOnly.getOrDefault(s.slot(), false) ? KvmApi.KVM_MEM_READONLY : 0));
            return "ok";
        }
        if (op instanceof Op.GuestRead g) {
            String o = unmappedMark(g.pos(), g.page()) + guest(READ, gpa(g.pos(), g.page()) + 8L * g.word(), 0);
            track(g.pos(), g.page(), o, false);
            return o;
        }
        if (op instanceof Op.GuestWrite g) {
            String o = unmappedMark(g.pos(), g.page()) + guest(WRITE, gpa(g.pos(), g.page()) + 8L * g.word(), g.value());
            track(g.pos(), g.page(), o, true);
            return o;
        }
        if (op instanceof Op.HostWrite h) {
            if (!hostMapped(h.slot())) {
                return "skip";
            }
            vm.write64(gpa(at.get(h.slot()), h.page()), h.value());
            written.merge(h.slot(), 1 << h.page(), (a, b) -> a | b);
            return "ok";
        }
        if (op instanceof Op.HostRead h) {
            return hostMapped(h.slot()) ? hex(vm.read64(gpa(at.get(h.slot()), h.page()))) : "skip";
        }
        if (op instanceof Op.GetDirtyLog d) {
            if (!at.containsKey(d.slot())) {
                return "skip";
            }
            String bitmap = "bitmap " + hex(vm.getDirtyLog(d.slot())[0]);
            int read = reads.getOrDefault(d.slot(), 0);
            return read == 0 ? bitmap : bitmap + GUEST_READS + hex(read) + NEVER_WRITTEN + hex(zeroReads.getOrDefault(d.slot(), 0)) + ")";
        }
        if (op instanceof Op.ClearDirtyLog c) {
            if (!at.containsKey(c.slot()) || !history.manualProtect()) {
                return "skip";
            }
            vm.clearDirtyLog(c.slot(), 0, History.PAGES, new long[] {c.mask()});
            return "ok";
        }
        if (op instanceof Op.Dontneed d) {
            if (!hostMapped(d.slot())) {
                return "skip";
            }
            vm.madviseDontneed(gpa(at.get(d.slot()), d.page()), d.pages() * PAGE);
            written.merge(d.slot(), ((1 << d.pages()) - 1) << d.page(), (a, b) -> a & ~b);
            return "ok";
        }
        if (op instanceof Op.Munmap m) {
            if (!hostMapped(m.slot())) {
                return "skip";
            }
            vm.munmapRegionMemory(m.slot());
            unmapped.add(m.slot());
            return "ok";
        }
        throw new IllegalArgumentException("unknown step " + op);
    }

    /** Follows which pages were written, and which the guest read while nothing had: see {@link #written}. */
    private void track(int pos, int page, String outcome, boolean write) {
        int slot = slotAt(gpa(pos, page));
        if (!outcome.startsWith("sync ") || slot < 0) {
            return;
        }
        int bit = 1 << (int) ((gpa(pos, page) - gpa(at.get(slot), 0)) / PAGE);
        if (write) {
            written.merge(slot, bit, (a, b) -> a | b);
            return;
        }
        reads.merge(slot, bit, (a, b) -> a | b);
        if ((written.getOrDefault(slot, 0) & bit) == 0) {
            zeroReads.merge(slot, bit, (a, b) -> a | b);
        }
    }

    /** {@link #UNMAPPED_HVA} if the page at {@code pos}/{@code page} is in a slot whose host memory was unmapped. */
    private String unmappedMark(int pos, int page) {
        int slot = slotAt(gpa(pos, page));
        return slot >= 0 && unmapped.contains(slot) ? UNMAPPED_HVA : "";
    }

    /** The slot that holds guest-physical {@code gpa} now, or -1 (slots never overlap). */
    private int slotAt(long gpa) {
        for (Map.Entry<Integer, Integer> e : at.entrySet()) {
            long start = gpa(e.getValue(), 0);
            if (gpa >= start && gpa < start + History.PAGES * PAGE) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** Host memory for region requests kvm_util would not make (one slot's worth, allocated on first use). */
    private HostBuffer scratch() {
        if (scratch == null) {
            scratch = vm.memfdAlloc(History.PAGES * PAGE, false);
        }
        return scratch;
    }

    /** The slot exists and its host memory is mapped (userspace may touch it without faulting itself). */
    private boolean hostMapped(int slot) {
        return at.containsKey(slot) && !unmapped.contains(slot);
    }

    /** One mailbox request and the KVM_RUNs to its GUEST_SYNC; an MMIO read is answered with a value of the address. */
    private String guest(int op, long addr, long value) {
        vm.write64(box + MailboxGuest.OP, op);
        vm.write64(box + MailboxGuest.ADDR, addr);
        vm.write64(box + MailboxGuest.VALUE, value);
        StringBuilder sb = new StringBuilder();
        for (int exits = 0; exits < 4; exits++) {
            Exit e;
            try {
                e = vcpu.run();
            } catch (SyscallException | SimKvmException ex) {
                return sb + "KVM_RUN " + errno(ex);
            }
            if (e.is(Exit.MMIO)) {
                Exit.Mmio m = vcpu.mmio();
                sb.append(String.format(Locale.ROOT, "MMIO gpa=0x%x len=%d %s; ", m.physAddr(), m.len(), m.isWrite() ? "write" : "read"));
                vcpu.setMmioData(~addr);
                continue;
            }
            if (e.is(Exit.IO)) {
                Ucall uc = vcpu.ucall();
                return sb + (uc.kind() == Ucall.Kind.SYNC ? "sync " + hex(uc.stage()) : "ucall " + uc.kind() + TERMINAL);
            }
            return sb + KvmApi.exitReasonName(e.reason()) + TERMINAL;
        }
        return sb + "no GUEST_SYNC after 4 exits" + TERMINAL;
    }

    /** The errno a failed ioctl gave, by its symbol, the same way from either backend: "EEXIST". */
    private static String errno(RuntimeException e) {
        return e instanceof SyscallException s ? Errno.symbol(s.errno()) : ((SimKvmException) e).errno().name();
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
