// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.BarebonesVm;
import dev.kvmharness.harness.IoctlResult;
import dev.kvmharness.kvm.bindings.KvmApi;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The memslot requests set_memory_region_test makes, and their neighbours, as one seeded script of steps
 * issued to a barebones VM of each backend: every flag bit through both ioctls, slot ids around
 * KVM_CAP_NR_MEMSLOTS and beyond, address spaces, deletes and moves of slots that do not exist, gpa overlaps
 * (EEXIST), moves onto other slots, filling every slot and one more, KVM_SET_NR_MMU_PAGES, and guest_memfd
 * bindings through fds that are not this VM's guest_memfd. Each step's outcome ("OK" or the errno) is
 * recorded; the caller compares the two records line by line.
 */
final class PortErrnoCases {
    static final long SIZE = 0x200000;
    static final long PAGE = 4096;

    private PortErrnoCases() {
    }

    /** One step: what was asked and what came back. */
    record Step(String what, String outcome) {
        @Override
        public String toString() {
            return what + " -> " + outcome;
        }
    }

    /** Runs the script with {@code seed} on {@code backend}; the steps in order. */
    static List<Step> run(Backend backend, long seed, int nrMemslots) {
        List<Step> out = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        try (BarebonesVm vm = backend.createBarebonesVm(KvmApi.KVM_X86_DEFAULT_VM);
             BarebonesVm other = backend.createBarebonesVm(KvmApi.KVM_X86_DEFAULT_VM)) {
            long mem = vm.mmapAnonymous(64 * SIZE, true);
            Consumer<IoctlResult> rec = r -> out.add(new Step(r.ioctl() + " " + last(out), r.outcome()));
            // Every flag bit, v1 and v2, on a slot that does not exist yet.
            for (int i = 0; i < 32; i++) {
                note(out, "flag bit " + i + " v1");
                rec.accept(vm.setUserMemoryRegion(0, 1 << i, 0, SIZE, mem));
                note(out, "flag bit " + i + " v2");
                rec.accept(vm.setUserMemoryRegion2(0, 1 << i, 0, SIZE, mem, 0, 0));
            }
            // Slot ids around the limit, and in the last address space and the first one past it (how many there
            // are is a host property: 2 with SMM, 1 without).
            int spaces = Math.max(1, vm.checkCap(KvmApi.KVM_CAP_MULTI_ADDRESS_SPACE));
            int[] ids = {nrMemslots - 2, nrMemslots - 1, nrMemslots, nrMemslots + 1, 0x7fff, 0xffff,
                (spaces - 1) << 16 | 500, spaces << 16 | 500, 0x7fff << 16};
            String[] labels = {"KVM_CAP_NR_MEMSLOTS - 2", "KVM_CAP_NR_MEMSLOTS - 1", "KVM_CAP_NR_MEMSLOTS",
                "KVM_CAP_NR_MEMSLOTS + 1", "0x7fff", "0xffff", "500 in the last address space",
                "500 in the first address space past the last", "0 in address space 0x7fff"};
            for (int k = 0; k < ids.length; k++) {
                int id = ids[k];
                note(out, "create slot " + labels[k]);
                long gpa = (id & 0xffff) * SIZE % (32 * SIZE) + 32 * SIZE;
                rec.accept(vm.setUserMemoryRegion(id, 0, gpa, SIZE, mem + 32 * SIZE));
                // And delete it again (EINVAL where it was never created), so the slots stay the same on both.
                note(out, "delete slot " + labels[k]);
                rec.accept(vm.setUserMemoryRegion(id, 0, gpa, 0, mem + 32 * SIZE));
            }
            // Deletes and moves of slots that do not exist.
            for (int i = 0; i < 6; i++) {
                int id = 100 + rnd.nextInt(50);
                note(out, "delete missing slot " + id);
                rec.accept(vm.setUserMemoryRegion(id, 0, rnd.nextInt(64) * SIZE, 0, mem));
            }
            // A few real slots, then overlapping creates, moves onto others, flag changes, deletes.
            for (int s = 1; s <= 4; s++) {
                note(out, "create slot " + s);
                rec.accept(vm.setUserMemoryRegion(s, 0, s * SIZE, SIZE, mem + s * SIZE));
            }
            for (int i = 0; i < 24; i++) {
                int s = 1 + rnd.nextInt(6);
                long gpa = rnd.nextInt(8) * SIZE + (rnd.nextInt(4) == 0 ? rnd.nextInt(1, 512) * PAGE : 0);
                int flags = rnd.nextInt(3) == 0 ? KvmApi.KVM_MEM_LOG_DIRTY_PAGES : 0;
                long size = rnd.nextInt(5) == 0 ? 0 : SIZE;
                note(out, "slot " + s + " gpa 0x" + Long.toHexString(gpa) + " size 0x" + Long.toHexString(size)
                        + " flags " + flags);
                rec.accept(vm.setUserMemoryRegion(s, flags, gpa, size, mem + s * SIZE));
            }
            // KVM_SET_NR_MMU_PAGES below, at and above KVM_MIN_ALLOC_MMU_PAGES.
            for (long pages : new long[] {0, 63, 64, 1024}) {
                note(out, "nr_mmu_pages " + pages);
                rec.accept(vm.setNrMmuPages(pages));
            }
            // guest_memfd through fds that are not this VM's guest_memfd: EINVAL either way, though for
            // different reasons where kernels differ (6.12 takes no guest_memfd on a default VM, so the flag
            // decides; 6.18 does, and kvm_gmem_bind() refuses the fd). A closed fd (EBADF from fget()) is
            // not modelled and not asked.
            try (BarebonesVm.HostFd memfd = vm.memfd(SIZE)) {
                int[] fds = {vm.kvmFd(), vm.vmFd(), memfd.fd(), other.vmFd()};
                String[] names = {"kvm fd", "vm fd", "plain memfd", "other VM's fd"};
                for (int i = 0; i < fds.length; i++) {
                    note(out, "guest_memfd binding through the " + names[i]);
                    rec.accept(vm.setUserMemoryRegion2(20, KvmApi.KVM_MEM_GUEST_MEMFD, 0x40 * SIZE, SIZE, 0, fds[i], 0));
                }
            }
            // Fill every slot id (the ones taken keep their place) and ask for one more.
            int created = 0;
            for (int s = 0; s < nrMemslots; s++) {
                IoctlResult r = vm.setUserMemoryRegion(s, 0, (0x100 + s) * SIZE, SIZE, mem + (s % 64) * SIZE);
                created += r.isOk() ? 1 : 0;
                if (s < 8 || s == nrMemslots - 1) {
                    out.add(new Step("fill slot " + s, r.outcome()));
                }
            }
            out.add(new Step("slots created while filling", Integer.toString(created)));
            note(out, "one slot past the limit");
            rec.accept(vm.setUserMemoryRegion(nrMemslots, 0, (0x100 + nrMemslots) * SIZE, SIZE, mem));
        }
        out.removeIf(s -> s.outcome() == null);
        return out;
    }

    /** Labels the next step (the recorder takes the label from the last entry). */
    private static void note(List<Step> out, String what) {
        out.add(new Step(what, null));
    }

    private static String last(List<Step> out) {
        Step s = out.remove(out.size() - 1);
        return s.what();
    }
}
