// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.BarebonesVm;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import dev.kvmharness.harness.guest.GuestProgram;
import dev.kvmharness.harness.guest.MailboxGuest;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.sys.Errno;
import dev.kvmharness.sys.SyscallException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * KVM_RUN outcomes, step by step, the same way on either backend: a guest that does what a mailbox in guest
 * memory says (read or write an address, or store to a non-canonical one) and reports the value with a
 * GUEST_SYNC, while the host deletes, re-creates and moves the memslot behind the address between steps. Each
 * step's outcome is the exit (a sync with the value, an MMIO exit with gpa, length and direction, answered
 * with a seeded value, a shutdown) or KVM_RUN's errno. Also the fixed cases: KVM_RUN with zero memslots, a
 * vCPU fetching from a memslot whose host memory was unmapped (EFAULT), and deleting slot 0 under a running
 * guest.
 */
final class RunOutcomeSequence {
    static final long REGION_GPA = 0xc0000000L;
    static final long UNBACKED_GPA = 0xd0000000L;
    static final int SLOT = 10;
    static final long PAGE = 4096;
    static final long NONCANONICAL = 0xaaaaaaaaaaaaaaaaL;
    private static final int READ = MailboxGuest.READ;
    private static final int WRITE = MailboxGuest.WRITE;

    private RunOutcomeSequence() {
    }

    static final GuestProgram MAILBOX = MailboxGuest.PROGRAM;

    /** A seeded sequence of steps on one VM; ends early at a shutdown. */
    static List<String> mailbox(Backend backend, long seed, int steps) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> out = new ArrayList<>();
        try (Vm vm = backend.createVm(VmShape.of(MAILBOX, 1))) {
            long box = vm.vaddrAlloc(PAGE);
            vm.addRegion(BackingSource.ANONYMOUS, REGION_GPA, SLOT, 2, 0);
            vm.virtMap(REGION_GPA, REGION_GPA, 2 * PAGE);
            vm.virtMap(UNBACKED_GPA, UNBACKED_GPA, PAGE);
            Vcpu vcpu = vm.vcpu(0);
            vcpu.setArgs(box);
            boolean present = true;
            long regionGpa = REGION_GPA;
            for (int step = 0; step < steps; step++) {
                // Change the memslot behind REGION_GPA now and then, as the MOVE/DELETE subtests do.
                int change = rnd.nextInt(6);
                if (change == 0 && present) {
                    vm.memRegionDelete(SLOT);
                    present = false;
                    out.add(step + ": delete slot " + SLOT);
                } else if (change == 1 && !present) {
                    vm.addRegion(BackingSource.ANONYMOUS, REGION_GPA, SLOT, 2, 0);
                    present = true;
                    regionGpa = REGION_GPA;
                    out.add(step + ": re-create slot " + SLOT);
                } else if (change == 2 && present) {
                    regionGpa = regionGpa == REGION_GPA ? REGION_GPA - PAGE : REGION_GPA;
                    vm.memRegionMove(SLOT, regionGpa);
                    out.add(step + ": move slot " + SLOT + " to 0x" + Long.toHexString(regionGpa));
                }
                // Mostly the region; now and then the unbacked page (MMIO) or a non-canonical store (#GP, which
                // the harness's empty IDT turns into a shutdown, ending the sequence).
                int kind = rnd.nextInt(24);
                int op = kind == 0 || rnd.nextBoolean() ? WRITE : READ;
                long addr = kind == 0 ? NONCANONICAL : kind < 4 ? UNBACKED_GPA : REGION_GPA + rnd.nextInt(2) * 8L;
                long value = rnd.nextLong();
                vm.write64(box, op);
                vm.write64(box + 8, addr);
                vm.write64(box + 16, value);
                String what = step + ": " + (op == READ ? "read" : "write") + " 0x" + Long.toHexString(addr) + " -> ";
                String outcome = runOnce(vcpu, rnd.nextLong());
                out.add(what + outcome);
                if (outcome.startsWith("KVM_EXIT_SHUTDOWN") || outcome.startsWith("KVM_EXIT_INTERNAL_ERROR")
                        || outcome.startsWith("KVM_RUN")) {
                    break;
                }
            }
        }
        return out;
    }

    /** Runs to the next sync, answering MMIO exits with {@code mmioValue}; describes what happened. */
    private static String runOnce(Vcpu vcpu, long mmioValue) {
        StringBuilder sb = new StringBuilder();
        for (int exits = 0; exits < 4; exits++) {
            Exit e;
            try {
                e = vcpu.run();
            } catch (RuntimeException ex) {
                return sb + "KVM_RUN " + errnoOf(ex);
            }
            if (e.is(Exit.MMIO)) {
                Exit.Mmio m = vcpu.mmio();
                sb.append(String.format("MMIO gpa=0x%x len=%d %s; ", m.physAddr(), m.len(), m.isWrite() ? "write" : "read"));
                vcpu.setMmioData(mmioValue);
                continue;
            }
            if (e.is(Exit.IO)) {
                Ucall uc = vcpu.ucall();
                return sb + (uc.kind() == Ucall.Kind.SYNC ? String.format("sync 0x%x", uc.stage()) : "ucall " + uc.kind());
            }
            return sb + "KVM_EXIT_" + exitName(e.reason());
        }
        return sb + "(no sync after 4 exits)";
    }

    /** KVM_RUN with zero memslots (set_memory_region_test's first subtest). */
    static String zeroMemslots(Backend backend) {
        try (BarebonesVm vm = backend.createBarebonesVm(KvmApi.KVM_X86_DEFAULT_VM)) {
            BarebonesVm.RawVcpu v = vm.addRawVcpu(0);
            vm.setNrMmuPages(64).orFail();
            Exit e = v.run();
            return "KVM_EXIT_" + exitName(e.reason())
                    + (e.is(Exit.INTERNAL_ERROR) ? " suberror " + v.internalError().suberror() : "");
        }
    }

    /** The mailbox guest reading a memslot whose host memory was unmapped: hva_to_pfn() fails, KVM_RUN EFAULT. */
    static String readUnmappedHostMemory(Backend backend) {
        try (Vm vm = backend.createVm(VmShape.of(MAILBOX, 1))) {
            long box = vm.vaddrAlloc(PAGE);
            vm.addRegion(BackingSource.ANONYMOUS, REGION_GPA, SLOT, 2, 0);
            vm.virtMap(REGION_GPA, REGION_GPA, 2 * PAGE);
            Vcpu vcpu = vm.vcpu(0);
            vcpu.setArgs(box);
            vm.write64(box, READ);
            vm.write64(box + 8, REGION_GPA);
            String first = runOnce(vcpu, 0);
            vm.munmapRegionMemory(SLOT);
            return first + "; after munmap: " + runOnce(vcpu, 0);
        }
    }

    /** Deleting slot 0 (code on kvm, page tables on both) under the mailbox guest reading slot 10. */
    static String deleteSlot0(Backend backend) {
        try (Vm vm = backend.createVm(VmShape.of(MAILBOX, 1))) {
            long box = vm.vaddrAlloc(PAGE);
            vm.addRegion(BackingSource.ANONYMOUS, REGION_GPA, SLOT, 2, 0);
            vm.virtMap(REGION_GPA, REGION_GPA, 2 * PAGE);
            Vcpu vcpu = vm.vcpu(0);
            vcpu.setArgs(box);
            vm.write64(box, READ);
            vm.write64(box + 8, REGION_GPA);
            String first = runOnce(vcpu, 0);
            vm.memRegionDelete(0);
            return first + "; after deleting slot 0: " + runOnce(vcpu, 0);
        }
    }

    static String errnoOf(RuntimeException e) {
        if (e instanceof SyscallException s) {
            return Errno.symbol(s.errno());
        }
        if (e instanceof SimKvmException s) {
            return s.errno().name();
        }
        throw e;
    }

    private static String exitName(int reason) {
        return KvmApi.exitReasonName(reason).replaceFirst("^KVM_EXIT_", "");
    }
}
