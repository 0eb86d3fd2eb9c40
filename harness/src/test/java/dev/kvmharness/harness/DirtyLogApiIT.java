// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.harness.guest.Cond;
import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.Reg;
import dev.kvmharness.harness.junit.OnBackends;
import dev.kvmharness.harness.junit.WithVm;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.sys.IoctlException;

/**
 * The dirty-log calls a VMM makes beyond KVM_GET_DIRTY_LOG, on both backends: {@link Vm#memRegionSetFlags}
 * (KVM_MEM_LOG_DIRTY_PAGES switched on and off on a live memslot), KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 through
 * {@link Vm#enableCap} (KVM_GET_DIRTY_LOG then clears nothing; INITIALLY_SET starts the log full), and
 * {@link Vm#clearDirtyLog} (KVM_CLEAR_DIRTY_LOG clears the given bits and write-protects those pages again).
 */
@WithVm(guest = "writePages", runTimeoutSeconds = 30)
class DirtyLogApiIT {
    private static final int SLOT = 1;
    private static final long GPA = 0x1_0000_0000L;
    private static final long GVA = 0x10_0000_0000L;
    private static final int PAGES = 256;
    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;
    private static final long MANUAL = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    private static final long INITIALLY_SET = KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;

    /** Writes pages arg3, arg3 + arg2, ... below arg1 of the 4K pages at arg0, then GUEST_SYNC; forever. */
    static void writePages(GuestBuilder g) {
        Reg base = g.arg(0);
        Reg pages = g.arg(1);
        Reg step = g.arg(2);
        Reg first = g.arg(3);
        Reg i = g.temp();
        Reg addr = g.temp();
        g.loop(() -> {
            g.mov(i, first);
            g.whileTrue(Cond.ULT, i, pages, () -> {
                g.mov(addr, i);
                g.shl(addr, 12);
                g.add(addr, base);
                g.store64(addr, 0, i);
                g.add(i, step);
            });
            g.sync(step);
        });
    }

    private static void setUp(Vm vm, int flags) {
        vm.addRegion(BackingSource.ANONYMOUS, GPA, SLOT, PAGES, flags);
        vm.virtMap(GVA, GPA, PAGES * 4096L);
    }

    /** One guest pass writing every {@code step}-th page from {@code first}. */
    private static void write(Vm vm, int step, int first) {
        vm.vcpu(0).setArgs(GVA, PAGES, step, first);
        assertThat(vm.vcpu(0).runToUcall().kind()).isEqualTo(Ucall.Kind.SYNC);
    }

    private static long[] pages(int step, int first) {
        long[] bm = new long[PAGES / 64];
        for (int p = first; p < PAGES; p += step) {
            bm[p / 64] |= 1L << (p % 64);
        }
        return bm;
    }

    private static String errno(Throwable t) {
        if (t instanceof IoctlException e) {
            return e.symbol().name();
        }
        if (t instanceof SimKvmException e) {
            return e.errno().name();
        }
        return String.valueOf(t);
    }

    @OnBackends
    void memRegionSetFlagsSwitchesDirtyLoggingOnAndOff(Vm vm) {
        setUp(vm, 0);
        write(vm, 1, 0);
        assertThatThrownBy(() -> vm.getDirtyLog(SLOT)).as("KVM_GET_DIRTY_LOG of a slot that does not log")
                .satisfies(t -> assertThat(errno(t)).isEqualTo("ENOENT"));

        vm.memRegionSetFlags(SLOT, LOG);
        assertThat(vm.region(SLOT).flags()).as("the region's flags after memRegionSetFlags(slot, LOG_DIRTY_PAGES)").isEqualTo(LOG);
        assertThatCode(() -> vm.getDirtyLog(SLOT)).as("KVM_GET_DIRTY_LOG after memRegionSetFlags(slot, KVM_MEM_LOG_DIRTY_PAGES):"
                + " the memslot must log now").doesNotThrowAnyException();
        write(vm, 2, 0);
        assertThat(vm.getDirtyLog(SLOT)).as("after memRegionSetFlags(slot, KVM_MEM_LOG_DIRTY_PAGES), the pages written since")
                .containsExactly(pages(2, 0));

        vm.memRegionSetFlags(SLOT, 0);
        assertThat(vm.region(SLOT).flags()).as("the region's flags after memRegionSetFlags(slot, 0)").isZero();
        assertThatThrownBy(() -> vm.getDirtyLog(SLOT)).as("KVM_GET_DIRTY_LOG after memRegionSetFlags(slot, 0) switched logging off")
                .satisfies(t -> assertThat(errno(t)).isEqualTo("ENOENT"));
        write(vm, 1, 0);
        assertThat(vm.read64(GPA + 7 * 4096L)).as("the guest still writes the slot").isEqualTo(7);
    }

    /** A memslot moved after memRegionSetFlags keeps logging: the region remembered the flags. */
    @OnBackends
    void aMovedRegionKeepsTheFlagsSetOnIt(Vm vm) {
        setUp(vm, 0);
        vm.memRegionSetFlags(SLOT, LOG);
        vm.memRegionMove(SLOT, GPA + (1L << 30));
        assertThatCode(() -> vm.getDirtyLog(SLOT)).as("KVM_GET_DIRTY_LOG after moving a slot memRegionSetFlags made log")
                .doesNotThrowAnyException();
    }

    @OnBackends
    void withManualProtectClearDirtyLogClearsAndReprotectsJustTheGivenPages(Vm vm) {
        vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, MANUAL);
        setUp(vm, LOG);
        write(vm, 1, 0);
        long[] all = pages(1, 0);
        assertThat(vm.getDirtyLog(SLOT)).isEqualTo(all);
        assertThat(vm.getDirtyLog(SLOT)).as("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: KVM_GET_DIRTY_LOG must leave the log as it is")
                .isEqualTo(all);

        vm.clearDirtyLog(SLOT, 0, PAGES, pages(2, 0));
        assertThat(vm.getDirtyLog(SLOT)).as("after clearDirtyLog(slot, 0, %d, even pages): only the odd pages stay dirty", PAGES)
                .isEqualTo(pages(2, 1));

        write(vm, 1, 0);
        assertThat(vm.getDirtyLog(SLOT)).as("clearDirtyLog must write-protect the even pages again, so that the guest's next"
                + " writes to them are logged").isEqualTo(all);

        // A 64-page window: first_page a multiple of 64.
        vm.clearDirtyLog(SLOT, 64, 64, new long[] {-1L});
        long[] expect = all.clone();
        expect[1] = 0;
        assertThat(vm.getDirtyLog(SLOT)).as("clearDirtyLog(slot, 64, 64, ~0) clears pages 64..127 only").isEqualTo(expect);
        assertThatThrownBy(() -> vm.clearDirtyLog(SLOT, 1, 64, new long[] {-1L}))
                .as("KVM_CLEAR_DIRTY_LOG with first_page not a multiple of 64")
                .satisfies(t -> assertThat(errno(t)).isEqualTo("EINVAL"));
        assertThatThrownBy(() -> vm.clearDirtyLog(SLOT, 0, PAGES, new long[1])).as("a bitmap shorter than num_pages")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bitmap");
    }

    @OnBackends
    void initiallySetStartsTheLogFullWithNothingWriteProtected(Vm vm) {
        vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, MANUAL | INITIALLY_SET);
        setUp(vm, 0);
        write(vm, 1, 0);
        vm.memRegionSetFlags(SLOT, LOG);
        assertThat(vm.getDirtyLog(SLOT)).as("KVM_DIRTY_LOG_INITIALLY_SET: every bit set as logging starts, nothing written yet")
                .isEqualTo(pages(1, 0));
        vm.clearDirtyLog(SLOT, 0, PAGES, pages(1, 0));
        assertThat(vm.getDirtyLog(SLOT)).as("after clearDirtyLog of every page").containsOnly(0L);
        write(vm, 4, 1);
        assertThat(vm.getDirtyLog(SLOT)).as("only the pages written after clearDirtyLog write-protected them")
                .isEqualTo(pages(4, 1));
    }

    /** args[0] = 0 switches manual protect off again: KVM_GET_DIRTY_LOG clears and re-protects as before. */
    @OnBackends
    void manualProtectSwitchedOffAgainLetsGetDirtyLogClear(Vm vm) {
        vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, MANUAL);
        vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 0);
        setUp(vm, LOG);
        write(vm, 1, 0);
        assertThat(vm.getDirtyLog(SLOT)).isEqualTo(pages(1, 0));
        assertThat(vm.getDirtyLog(SLOT)).as("manual protect off: KVM_GET_DIRTY_LOG cleared the log").containsOnly(0L);
        write(vm, 3, 0);
        assertThat(vm.getDirtyLog(SLOT)).as("and write-protected the pages again").isEqualTo(pages(3, 0));
    }

    @OnBackends
    void manualProtectCapBitsAreCheckedAsKvmChecksThem(Vm vm) {
        assertThat(vm.backend().checkCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) & (int) (MANUAL | INITIALLY_SET))
                .as("KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) offers both bits").isEqualTo((int) (MANUAL | INITIALLY_SET));
        assertThatThrownBy(() -> vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, INITIALLY_SET))
                .as("INITIALLY_SET without MANUAL_PROTECT_ENABLE").satisfies(t -> assertThat(errno(t)).isEqualTo("EINVAL"));
        assertThatThrownBy(() -> vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, MANUAL | 4))
                .as("an unknown bit").satisfies(t -> assertThat(errno(t)).isEqualTo("EINVAL"));
        assertThatCode(() -> vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, MANUAL | INITIALLY_SET))
                .doesNotThrowAnyException();
    }
}
